"""Landing: put files that follow the bronze contract's layout into the raw bucket.

A landing is checked whole before anything is uploaded: one off-contract file
(a name Spark would hide, a symbolic link, a wrong layout) refuses the landing,
with the file and the rule it breaks. Bronze is immutable: landing the same
file again is a no-op, and a different file under an already-landed key is
refused. Every upload is a conditional write (If-None-Match: *), so two
producers racing for one new key cannot both be told "uploaded".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from botocore.exceptions import ClientError

from ecomdwh import aws
from ecomdwh.checksums import sha256_file
from ecomdwh.contract import ENTITIES, INGEST_DATE_RE, Entity, bronze_key, entity_for_path, is_hidden_name
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

# Files up to this size go up in one conditional PUT; larger ones in parts. LocalStack 4.13.1 makes a
# conditional PUT atomic but checks a conditional CompleteMultipartUpload apart from the write, so two
# producers racing with files above this size can both win there (S3 itself settles it: 412 or 409).
MULTIPART_THRESHOLD = 256 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# Checks and uploads in flight at once: a landing of many small files waits on round trips, not bytes.
_PARALLEL = 8
# S3 answers 409 ConditionalRequestConflict while another conditional write of the key is in flight.
_CONFLICT_ATTEMPTS = 5
_HIDDEN_RULE = "names starting with _ or . are hidden from Spark and Glue: rename it"


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


class LandingRefused(UserError):
    """Some files could not be landed after the checks passed: another producer won their key, or
    the file changed during the upload. `result` holds what this landing did land."""

    def __init__(self, message: str, conflicts: list[str], changed: list[str], result: LandingResult):
        super().__init__(message)
        self.conflicts = conflicts
        self.changed = changed
        self.result = result


class _Changed(Exception):
    """The file's bytes no longer match the digest taken before its upload."""


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
    if is_hidden_name(file_name):
        return f"starts with {file_name[0]}: {_HIDDEN_RULE}", None
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
    for rel, path in _regular_files(directory, refused):
        try:
            rule, landing_file = _layout_error(rel, path)
        except OSError as exc:
            rule, landing_file = f"cannot be read ({exc.strerror})", None
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


def _regular_files(directory: Path, refused: list[str]) -> list[tuple[Path, Path]]:
    """The regular files under `directory`, sorted, never through a symbolic link; what cannot be
    landed (links, devices, pipes) goes to `refused`. Skipped as metadata: any name starting with `.`
    (OS and editor files, never landed, so never expected in bronze) and `_` files at the top (such
    as the generator's `_ground_truth.json`)."""
    found: list[tuple[Path, Path]] = []

    def visit(folder: Path) -> None:
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            refused.append(f"{folder.relative_to(directory)} cannot be read ({exc.strerror})")
            return
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(directory)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                # Following it would land whatever the link reaches, anywhere on the machine.
                refused.append(f"{rel} is a symbolic link: landing never follows links, copy the real file in")
            elif entry.is_dir(follow_symlinks=False):
                visit(path)
            elif not entry.is_file(follow_symlinks=False):
                refused.append(f"{rel} is not a regular file")
            elif not (len(rel.parts) == 1 and entry.name.startswith("_")):
                found.append((rel, path))

    visit(directory)
    return found


def landing_days(files: list[LandingFile]) -> list[str]:
    return sorted({f.ingest_date for f in files})


def _landed_sha256(s3, bucket: str, key: str) -> str | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head.get("Metadata", {}).get("sha256", "")


def landed_keys(settings: Settings, files: list[LandingFile]) -> set[str]:
    """The raw bucket's keys of each entity in `files` from its first landing day in `files` on: one listing per
    entity, which grows with the days landed since, not with the entity's history."""
    first: dict[str, str] = {}
    for f in files:
        first[f.entity.path] = min(first.get(f.entity.path, f.ingest_date), f.ingest_date)
    bucket = settings.raw_bucket
    try:
        return {
            obj["Key"]
            for path, day in first.items()
            for page in aws.list_pages(settings, bucket, f"{path}/", start_after=f"{path}/ingest_date={day}")
            for obj in page.get("Contents", [])
        }
    except ClientError as exc:
        if _error_code(exc) == "NoSuchBucket":
            raise _no_raw_bucket(bucket) from exc
        raise


def _no_raw_bucket(bucket: str) -> UserError:
    return UserError(
        f"The raw bucket {bucket} does not exist; `ecomdwh emulator start` creates it locally, "
        "terraform's data_lake module on AWS."
    )


def land(
    settings: Settings,
    files: list[LandingFile],
    on_file: Callable[[], None] | None = None,
    landed: set[str] | None = None,
) -> LandingResult:
    """Upload `files` to the raw bucket; identical re-landings are skipped. `on_file` hears each file as it is
    found already landed or its upload ends (from the upload threads). `landed`: `landed_keys` of a larger
    landing made in several calls (listed here when None)."""
    done = on_file or (lambda: None)
    s3 = aws.s3(settings)
    bucket = settings.raw_bucket
    if landed is None:
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            raise _no_raw_bucket(bucket) from exc
    result = LandingResult()
    todo: list[tuple[LandingFile, str]] = []
    conflicts: list[str] = []
    # Only a key already there is asked for its checksum; a key landed after this listing makes the
    # conditional PUT fail, and is compared then (_land_one).
    present = landed_keys(settings, files) if landed is None else landed

    def check(f: LandingFile) -> tuple[str, str | None]:
        return sha256_file(f.path), _landed_sha256(s3, bucket, f.key) if f.key in present else None

    def upload(item: tuple[LandingFile, str]) -> str:
        try:
            return _land_one(s3, bucket, *item)
        finally:
            done()

    with ThreadPoolExecutor(_PARALLEL) as pool:
        for f, (digest, landed) in zip(files, pool.map(check, files), strict=True):
            if landed is None:
                todo.append((f, digest))
            elif landed == digest:
                result.unchanged.append(f.key)
                done()
            else:
                conflicts.append(f.key)
        if conflicts:
            raise LandingRefused(_conflict_sentence(conflicts), conflicts, [], result)
        outcomes = list(pool.map(upload, todo))
    changed: list[str] = []
    for (f, _), outcome in zip(todo, outcomes, strict=True):
        {"uploaded": result.uploaded, "unchanged": result.unchanged, "conflict": conflicts, "changed": changed}[
            outcome
        ].append(f.key)
    if conflicts or changed:
        sentences = [_conflict_sentence(conflicts)] if conflicts else []
        if changed:
            sentences.append(
                f"{', '.join(changed)} changed while being landed (the bytes sent no longer matched the file's "
                "checksum), so nothing was stored under that name; land again once the file is complete."
            )
        if result.uploaded:
            sentences.append(f"The other {len(result.uploaded)} file(s) of this landing were uploaded.")
        raise LandingRefused(" ".join(sentences), conflicts, changed, result)
    return result


def _conflict_sentence(keys: list[str]) -> str:
    return (
        f"Refused to land: {', '.join(keys)} already landed with different content and bronze is "
        "immutable; land the new data under a new file name."
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _land_one(s3, bucket: str, f: LandingFile, digest: str) -> str:
    """Write one file only if its key is still free: "uploaded", "unchanged", "conflict" or "changed"."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            if f.path.stat().st_size <= MULTIPART_THRESHOLD:
                _put_whole(s3, bucket, f, digest)
            else:
                _put_in_parts(s3, bucket, f, digest)
            return "uploaded"
        except _Changed:
            return "changed"
        except ClientError as exc:
            code = _error_code(exc)
            if code == "BadDigest":
                return "changed"
            if code == "PreconditionFailed":
                # Someone landed the key since our check (or a retry of our own PUT found it): compare.
                landed = _landed_sha256(s3, bucket, f.key)
                if landed is not None:
                    return "unchanged" if landed == digest else "conflict"
            elif code != "ConditionalRequestConflict":
                raise
            time.sleep(0.05 * 2**attempt)
    raise UserError(f"{f.key}: other writes of this key kept conflicting with ours; land it again.")


def _put_whole(s3, bucket: str, f: LandingFile, digest: str) -> None:
    # S3 checks the body against ChecksumSHA256, so the sha256 metadata is always the stored bytes' digest.
    with f.path.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=f.key,
            Body=body,
            Metadata={"sha256": digest},
            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
            IfNoneMatch="*",
        )


def _put_in_parts(s3, bucket: str, f: LandingFile, digest: str) -> None:
    # s3transfer (0.19) does not pass IfNoneMatch to CompleteMultipartUpload, hence the parts by hand.
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key=f.key, Metadata={"sha256": digest}, ChecksumAlgorithm="SHA256"
    )["UploadId"]
    try:
        whole = hashlib.sha256()
        parts = []
        with f.path.open("rb") as fh:
            for number, chunk in enumerate(iter(lambda: fh.read(PART_SIZE), b""), start=1):
                whole.update(chunk)
                checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
                etag = s3.upload_part(
                    Bucket=bucket, Key=f.key, UploadId=upload_id, PartNumber=number, Body=chunk, ChecksumSHA256=checksum
                )["ETag"]
                parts.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum})
        if whole.hexdigest() != digest:
            raise _Changed
        s3.complete_multipart_upload(
            Bucket=bucket, Key=f.key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
        )
    except BaseException:
        with contextlib.suppress(ClientError):  # else the parts expire with the bucket's lifecycle rule
            s3.abort_multipart_upload(Bucket=bucket, Key=f.key, UploadId=upload_id)
        raise


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
