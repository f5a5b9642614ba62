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

from ecomdwh import aws
from ecomdwh.errors import UserError
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


def committed_manifests(settings: Settings, entity: str) -> list[dict]:
    """The run manifests of an entity's committed Glue runs, oldest first."""
    s3 = aws.s3(settings)
    manifests = []
    for page in aws.list_pages(settings, settings.staging_bucket, f"manifests/{entity}/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".json"):
                body = s3.get_object(Bucket=settings.staging_bucket, Key=obj["Key"])["Body"].read()
                manifests.append(json.loads(body))
    return sorted(manifests, key=lambda m: (m.get("finished_at", ""), m.get("job_run_id", "")))


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
    """
    files = files_by_partition(settings, entity, layer)
    partitions = {
        p: files.get((p.ingest_date, p.job_run_id), []) for p in committed_partitions(settings, entity, layer)
    }
    if not any(partitions.values()):
        raise UserError(f"Nothing committed in {layer} for {entity} yet; run the Glue jobs (`ecomdwh run`).")
    return read_partitions(settings, partitions).to_pandas()
