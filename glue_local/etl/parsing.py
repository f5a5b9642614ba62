"""Parsing raw bronze lines into contract columns, as plain Python over Arrow batches.

Bronze is read as raw lines so that a bad line can be quarantined exactly as
it arrived. Each line becomes the entity's contract columns as text (None for
absent or null), plus the extra keys it carried (schema drift) and a flag for
a line that is not a record at all. Type checks happen later, in Spark.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence

import pyarrow as pa

from ecomdwh.contract import Entity

PARSE_ERROR = "_unparseable"
EXTRA = "_extra_columns"


def parse_header(line: str) -> list[str]:
    return [name.strip().lstrip("\ufeff") for name in next(csv.reader([line]))]


def parse_csv_line(line: str, header: Sequence[str]) -> dict[str, str] | None:
    """The fields of one CSV line by header name, or None if it is not a record with the header's field count."""
    try:
        fields = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None
    if len(fields) != len(header):
        return None
    return dict(zip(header, fields, strict=True))


def _json_scalar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # never a valid number, so it fails the type checks
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def parse_json_line(line: str) -> dict[str, str | None] | None:
    """One JSON Lines object with numbers kept as their source text, or None if it is not an object."""
    try:
        # Numbers stay text: "12.345" must be seen with its 3 decimals, never as a float.
        record = json.loads(line, parse_float=str, parse_int=str)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    return {key: _json_scalar(value) for key, value in record.items()}


def output_schema(entity: Entity) -> pa.Schema:
    fields = [pa.field(name, pa.string()) for name in entity.column_names]
    return pa.schema([*fields, pa.field(EXTRA, pa.string()), pa.field(PARSE_ERROR, pa.bool_())])


def parse_records(
    entity: Entity, lines: Sequence[str], files: Sequence[str], headers: dict[str, list[str]]
) -> dict[str, list]:
    """Columns for a batch of lines; `headers` maps a CSV file to its header (unused for JSON)."""
    names = entity.column_names
    declared = set(names)
    out: dict[str, list] = {name: [] for name in [*names, EXTRA, PARSE_ERROR]}
    for line, file in zip(lines, files, strict=True):
        if line is None:  # a file quarantined whole before it could be read (a damaged .gz)
            record = None
        elif entity.format == "csv":
            record = parse_csv_line(line, headers[file])
        else:
            record = parse_json_line(line)
        out[PARSE_ERROR].append(record is None)
        record = record or {}
        for name in names:
            out[name].append(record.get(name))
        extra = sorted(set(record) - declared)
        out[EXTRA].append(",".join(extra) if extra else None)
    return out


def arrow_parser(entity: Entity, headers: dict[str, list[str]], line_col: str, file_col: str):
    """A function for DataFrame.mapInArrow: raw-line batches in, contract-column batches out."""
    schema = output_schema(entity)

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            lines = batch.column(line_col).to_pylist()
            files = batch.column(file_col).to_pylist()
            parsed = parse_records(entity, lines, files, headers)
            passthrough = {name: batch.column(name) for name in batch.schema.names}
            columns = {**passthrough, **{name: pa.array(parsed[name], schema.field(name).type) for name in parsed}}
            yield pa.RecordBatch.from_pydict(columns)

    return parse
