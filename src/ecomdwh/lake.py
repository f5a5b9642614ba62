"""Reading the lake (raw and staging buckets) from Python, without Spark.

The Glue jobs commit a run by writing its manifest last (glue_local/etl/silver_store.py):
only the (ingest_date, job_run_id) partitions that committed manifests list are visible.
The warehouse loaders and the reconciliation read the lake through these functions,
so they see exactly what Glue committed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ecomdwh import aws, commit_log
from ecomdwh.errors import UserError, s3_unreachable
from ecomdwh.settings import Settings


@dataclass(frozen=True, order=True)
class Partition:
    """One committed run's rows of one landing day, in silver or quarantine."""

    entity: str
    ingest_date: str
    job_run_id: str
    layer: str = "silver"

    @property
    def prefix(self) -> str:
        return f"{self.layer}/{self.entity}/ingest_date={self.ingest_date}/job_run_id={self.job_run_id}/"


# The lake's identity: written once into the staging bucket, gone when the lake is emptied
# (a restarted emulator keeps nothing), so a warehouse can tell the lake it was loaded from.
LAKE_ID_KEY = "lake-id.json"


def lake_id(settings: Settings, create: bool = False) -> str | None:
    """The staging bucket's lake id; with `create`, one is written if there is none (first writer wins)."""
    import uuid

    from botocore.exceptions import ClientError

    s3 = aws.s3(settings)
    for _ in range(3):
        try:
            body = s3.get_object(Bucket=settings.staging_bucket, Key=LAKE_ID_KEY)["Body"].read()
            return str(json.loads(body)["lake_id"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
        if not create:
            return None
        document = json.dumps({"lake_id": uuid.uuid4().hex}).encode()
        try:
            s3.put_object(Bucket=settings.staging_bucket, Key=LAKE_ID_KEY, Body=document, IfNoneMatch="*")
        except ClientError as exc:  # another writer created it first: read theirs
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
    raise UserError(f"The lake id s3://{settings.staging_bucket}/{LAKE_ID_KEY} could not be read or written.")


def new_raw_bytes(settings: Settings) -> int | None:
    """About what the next Glue run reads: the raw bucket's bytes landed since the newest committed run's
    manifest (all of them before any), from two listings; None when they cannot be listed."""
    try:
        committed = aws.list_pages(settings, settings.staging_bucket, "manifests/")
        since = max((o["LastModified"] for page in committed for o in page.get("Contents", [])), default=None)
        raw = (o for page in aws.list_pages(settings, settings.raw_bucket) for o in page.get("Contents", []))
        # The listings' times are to the second: a file landed in the second of a commit counts as new.
        return sum(o["Size"] for o in raw if since is None or o["LastModified"] >= since)
    except Exception:  # noqa: BLE001 - a size to choose Spark's settings by: the command's own steps report S3's faults
        return None


def has_committed_runs(settings: Settings) -> bool:
    """True if any Glue run committed a manifest in the staging bucket (one small listing)."""
    page = aws.s3(settings).list_objects_v2(Bucket=settings.staging_bucket, Prefix="manifests/", MaxKeys=1)
    return bool(page.get("Contents"))


def committed_manifests(settings: Settings, entity: str) -> list[dict]:
    """The run manifests of an entity's committed Glue runs, oldest first (commit_log: a handful of requests)."""
    s3 = aws.s3(settings)
    listed = {
        commit_log.run_id_of(obj["Key"]): (obj["LastModified"].timestamp(), obj["Key"])
        for page in aws.list_pages(settings, settings.staging_bucket, f"manifests/{entity}/")
        for obj in page.get("Contents", [])
        if obj["Key"].endswith(".json")
    }

    def read_json(key: str) -> dict:
        try:
            return json.loads(s3.get_object(Bucket=settings.staging_bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return {}

    return commit_log.resolve(listed, read_json).manifests


def partitions_of(manifests: list[dict], entity: str, layer: str = "silver") -> list[Partition]:
    """The partitions of `layer` (silver or quarantine) that these manifests committed."""
    key = f"{layer}_ingest_dates"
    return sorted(Partition(entity, day, m["job_run_id"], layer) for m in manifests for day in m.get(key, []))


def committed_partitions(settings: Settings, entity: str, layer: str = "silver") -> list[Partition]:
    """Every partition of `layer` that a committed manifest lists."""
    return partitions_of(committed_manifests(settings, entity), entity, layer)


def files_by_partition(settings: Settings, entity: str, layer: str = "silver") -> dict[tuple[str, str], list[str]]:
    """Every parquet object of an entity's layer, grouped by (ingest_date, job_run_id): one listing."""
    found: dict[tuple[str, str], list[str]] = {}
    for page in aws.list_pages(settings, settings.staging_bucket, f"{layer}/{entity}/"):
        for obj in page.get("Contents", []):
            parts = obj["Key"].split("/")
            if len(parts) == 5 and parts[4].endswith(".parquet"):
                day, run = parts[2].removeprefix("ingest_date="), parts[3].removeprefix("job_run_id=")
                found.setdefault((day, run), []).append(f"s3://{settings.staging_bucket}/{obj['Key']}")
    return {key: sorted(uris) for key, uris in found.items()}


def read_partitions(settings: Settings, files: dict[Partition, list[str]]):
    """The rows of several partitions as one Arrow table, partition columns included (parallel GETs)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    s3 = aws.s3(settings)

    def read(item: tuple[Partition, str]):
        partition, uri = item
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        rows = table.num_rows
        table = table.append_column("ingest_date", pa.array([partition.ingest_date] * rows, pa.string()))
        return table.append_column("job_run_id", pa.array([partition.job_run_id] * rows, pa.string()))

    items = [(partition, uri) for partition, uris in files.items() for uri in uris]
    with ThreadPoolExecutor(8) as pool:
        tables = list(pool.map(read, items))
    return pa.concat_tables(tables, promote_options="default")


_FOOTER_TAIL = 1 << 16  # parquet keeps its row counts in the footer, at the end of the file


def parquet_rows(settings: Settings, uris: list[str]) -> int:
    """Rows in parquet objects, from their footers only (a ranged GET each, in parallel)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3 = aws.s3(settings)

    def rows(uri: str) -> int:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        tail = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{_FOOTER_TAIL}")["Body"].read()
        footer = int.from_bytes(tail[-8:-4], "little") + 8
        if footer > len(tail):  # a footer bigger than the tail: read the whole object
            tail = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return pq.read_metadata(pa.BufferReader(tail)).num_rows

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(rows, uris))


def read_layer(settings: Settings, entity: str, layer: str = "silver"):
    """Everything an entity's committed Glue runs wrote to `layer` (silver or quarantine), as a DataFrame.

    For notebooks: e.g. `read_layer(settings, "order_items", "quarantine").value_counts("reason")`.
    A stopped emulator or an empty lake is a UserError saying what to run.
    """
    try:
        return _read_layer(settings, entity, layer)
    except UserError:
        raise
    except Exception as exc:
        explained = _lake_error(exc, settings)
        if explained is None:
            raise
        raise explained from exc


def _lake_error(exc: BaseException, settings: Settings) -> UserError | None:
    from botocore.exceptions import ClientError

    unreachable = s3_unreachable(exc, settings)
    if unreachable is not None:
        return unreachable
    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
        bucket = exc.response.get("Error", {}).get("BucketName") or settings.staging_bucket
        where = f"the S3 emulator at {settings.endpoint_url}" if settings.uses_emulator else "S3"
        return UserError(
            f"There is no bucket {bucket} on {where} (a restarted emulator starts empty); "
            "`ecomdwh run` lands the data and builds the lake again."
        )
    return None


def _read_layer(settings: Settings, entity: str, layer: str):
    files = files_by_partition(settings, entity, layer)
    partitions = {
        p: files.get((p.ingest_date, p.job_run_id), []) for p in committed_partitions(settings, entity, layer)
    }
    if not any(partitions.values()):
        raise UserError(f"Nothing committed in {layer} for {entity} yet; run the Glue jobs (`ecomdwh run`).")
    return read_partitions(settings, partitions).to_pandas()
