"""Landing: put files that follow the bronze contract's layout into the raw bucket.

A landing is checked whole before anything is uploaded: one off-contract file
refuses the landing, with the file and the rule it breaks. Bronze is
immutable: landing the same file again is a no-op, and a different file under
an already-landed key is refused.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from ecomdwh import aws
from ecomdwh.checksums import sha256_file
from ecomdwh.contract import ENTITIES, INGEST_DATE_RE, Entity, bronze_key, entity_for_path
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

# boto3 switches to a multipart upload above this size.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD)
_GZIP_MAGIC = b"\x1f\x8b"
# Checks and uploads in flight at once: a landing of many small files waits on round trips, not bytes.
_PARALLEL = 8


@dataclass(frozen=True)
class LandingFile:
    path: Path
    entity: Entity
    ingest_date: str

    @property
    def key(self) -> str:
        return bronze_key(self.entity, self.ingest_date, self.path.name)


@dataclass
class LandingResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def per_entity(self) -> Counter[str]:
        return Counter(key.split("/")[1] for key in self.uploaded)


def _is_metadata(rel: Path) -> bool:
    # `_ground_truth.json` and the like beside the data; dot-files anywhere.
    return any(part.startswith(".") for part in rel.parts) or (len(rel.parts) == 1 and rel.name.startswith("_"))


def _layout_error(rel: Path, path: Path) -> tuple[str | None, LandingFile | None]:
    """Check one file against the contract layout: (broken rule, None) or (None, file)."""
    layout = "<source>/<entity>/ingest_date=YYYY-MM-DD/<file>"
    if len(rel.parts) != 4:
        return f"is not at {layout}", None
    source, name, day_dir, file_name = rel.parts
    entity = entity_for_path(source, name)
    if entity is None:
        known = ", ".join(e.path for e in ENTITIES.values())
        return f"{source}/{name} is not an entity of the bronze contract ({known})", None
    match = INGEST_DATE_RE.match(day_dir)
    if match is None:
        return f"its folder {day_dir!r} is not ingest_date=YYYY-MM-DD", None
    try:
        date.fromisoformat(match.group(1))
    except ValueError:
        return f"{match.group(1)} is not a calendar date", None
    if not file_name.endswith(entity.extensions):
        endings = " or ".join(entity.extensions)
        return f"{entity.path} files are {entity.format.upper()}: the name must end in {endings}", None
    with path.open("rb") as fh:
        head = fh.read(2)
    if not head:
        return "is empty", None
    if file_name.endswith(".gz") != (head == _GZIP_MAGIC):
        return "its name and its gzip compression disagree (.gz files must be gzip, others plain UTF-8)", None
    return None, LandingFile(path, entity, match.group(1))


def plan(directory: Path, only_date: str | None = None) -> list[LandingFile]:
    """The files of `directory` to land, in landing order; refuses off-contract files."""
    if not directory.is_dir():
        raise UserError(
            f"{directory} is not a folder; give the one that holds <source>/<entity>/ingest_date=.../ files."
        )
    files: list[LandingFile] = []
    refused: list[str] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory)
        if _is_metadata(rel):
            continue
        rule, landing_file = _layout_error(rel, path)
        if rule is not None:
            refused.append(f"{rel} {rule}")
        elif landing_file is not None and (only_date is None or landing_file.ingest_date == only_date):
            files.append(landing_file)
    if refused:
        raise UserError(f"Refused to land {len(refused)} file(s), nothing was uploaded: " + "; ".join(refused) + ".")
    if not files:
        what = f"for ingest_date={only_date} " if only_date else ""
        raise UserError(f"No landing files {what}under {directory}; expected <source>/<entity>/ingest_date=.../ files.")
    return sorted(files, key=lambda f: (f.ingest_date, f.key))


def landing_days(files: list[LandingFile]) -> list[str]:
    return sorted({f.ingest_date for f in files})


def _landedsha256_file(s3, bucket: str, key: str) -> str | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head.get("Metadata", {}).get("sha256", "")


def land(settings: Settings, files: list[LandingFile]) -> LandingResult:
    """Upload `files` to the raw bucket; identical re-landings are skipped."""
    s3 = aws.s3(settings)
    bucket = settings.raw_bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        raise UserError(
            f"The raw bucket {bucket} does not exist; `ecomdwh emulator start` creates it locally, "
            "terraform's data_lake module on AWS."
        ) from exc
    result = LandingResult()
    todo: list[tuple[LandingFile, str]] = []
    conflicts: list[str] = []

    def check(f: LandingFile) -> tuple[str, str | None]:
        return sha256_file(f.path), _landedsha256_file(s3, bucket, f.key)

    def upload(item: tuple[LandingFile, str]) -> str:
        f, digest = item
        s3.upload_file(str(f.path), bucket, f.key, ExtraArgs={"Metadata": {"sha256": digest}}, Config=_TRANSFER)
        return f.key

    with ThreadPoolExecutor(_PARALLEL) as pool:
        for f, (digest, landed) in zip(files, pool.map(check, files), strict=True):
            if landed is None:
                todo.append((f, digest))
            elif landed == digest:
                result.unchanged.append(f.key)
            else:
                conflicts.append(f.key)
        if conflicts:
            raise UserError(
                f"Refused to land: {', '.join(conflicts)} already landed with different content and bronze is "
                "immutable; land the new data under a new file name."
            )
        result.uploaded.extend(pool.map(upload, todo))
    return result


def landed_days(settings: Settings) -> list[str]:
    """Every ingest date present in the raw bucket, across entities."""
    days: set[str] = set()
    for entity in ENTITIES.values():
        for page in aws.list_pages(settings, settings.raw_bucket, f"{entity.path}/", "/"):
            for prefix in page.get("CommonPrefixes", []):
                match = INGEST_DATE_RE.match(prefix["Prefix"].rstrip("/").rsplit("/", 1)[-1])
                if match:
                    days.add(match.group(1))
    return sorted(days)
