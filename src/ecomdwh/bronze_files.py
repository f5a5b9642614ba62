"""Writing landing files in the bronze layout, byte-for-byte reproducibly.

Used by every producer the project ships (the sample generator, the Olist
adapter): `<root>/<source>/<entity>/ingest_date=YYYY-MM-DD/<file>`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ecomdwh.contract import Entity, bronze_key


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Header plus rows, RFC 4180 quoting (only where needed), LF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(("" if v is None else v for v in row) for row in rows)
    return buf.getvalue()


def csv_lines(rows: Iterable[Sequence[object]]) -> list[str]:
    """Rows as CSV lines (no header, no line ends); fields must not hold line breaks."""
    text = csv_text([], rows)
    return text.split("\n")[1:-1]


def jsonl_line(record: Mapping[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def jsonl_text(records: Iterable[Mapping[str, object]]) -> str:
    return "".join(jsonl_line(r) + "\n" for r in records)


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 and no file name in the header: same input, same bytes.
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def write_landing_file(root: Path, entity: Entity, ingest_date: str, file_name: str, text: str) -> Path:
    """Write one landing file; a name ending in `.gz` is gzip-compressed."""
    if not file_name.endswith(entity.extensions):
        raise ValueError(f"{file_name}: a {entity.name} file must end in {' or '.join(entity.extensions)}")
    path = root / bronze_key(entity, ingest_date, file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(gzip_bytes(data) if file_name.endswith(".gz") else data)
    return path


def read_landing_text(path: Path) -> str:
    """The text of a landing file, gunzipped when its name ends in `.gz`."""
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")
