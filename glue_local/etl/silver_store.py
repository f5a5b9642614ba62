"""Where silver, quarantine and run manifests live, and what makes a run visible.

    s3://<staging>/silver/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/quarantine/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/manifests/<entity>/<R>.json
    s3://<staging>/checkpoints/<entity>/<R>.json        (named by manifest R)
    s3://<staging>/key_index/<entity>/<R>/part-*.parquet (named by checkpoint R)

A run's parquet is written first, under its own job_run_id folders; its
manifest is written last, as one object. The manifest is the commit: readers
take only the (ingest_date, job_run_id) partitions that committed manifests
list, so a run that dies mid-write leaves nothing a reader can see, and its
rerun writes new folders beside the orphans. The manifest also lists the
exact files, which is what Redshift's COPY ... MANIFEST wants.

Two things keep a run's cost flat as history grows, and neither is trusted
beyond what the manifests say:
- a checkpoint, written just before the manifest that names it, holds the
  manifests of every run committed before; a reader lists the manifests once,
  reads the newest and its checkpoint, and reads on its own any manifest the
  checkpoint does not hold (a run that committed meanwhile);
- a key index, the identity of every committed silver row (key, version and
  row hash) in one parquet file, rewritten when enough silver partitions have
  been committed outside it; deduplication reads it plus those partitions,
  never the whole of silver.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession

from glue_local.etl import hadoopfs

# Silver partitions committed outside the key index that make the next run rewrite it.
KEY_INDEX_REWRITE_AT = 8


def silver_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/silver/{entity}"


def quarantine_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/quarantine/{entity}"


def manifest_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/manifests/{entity}"


def manifest_uri(staging_bucket: str, entity: str, job_run_id: str) -> str:
    return f"{manifest_root(staging_bucket, entity)}/{job_run_id}.json"


def checkpoint_uri(staging_bucket: str, entity: str, job_run_id: str) -> str:
    return f"s3://{staging_bucket}/checkpoints/{entity}/{job_run_id}.json"


def key_index_uri(staging_bucket: str, entity: str, job_run_id: str) -> str:
    return f"s3://{staging_bucket}/key_index/{entity}/{job_run_id}"


@dataclass
class CommittedState:
    """What the committed runs of an entity are, read in a handful of requests."""

    manifests: list[dict] = field(default_factory=list)  # oldest first
    key_index: list[str] = field(default_factory=list)  # parquet folders holding the identities of...
    key_index_covers: set[str] = field(default_factory=set)  # ...these runs' silver rows

    @property
    def run_ids(self) -> set[str]:
        return {m["job_run_id"] for m in self.manifests}

    def outside_key_index(self) -> list[dict]:
        """Committed runs whose silver rows the key index does not hold."""
        return [m for m in self.manifests if m["job_run_id"] not in self.key_index_covers]


def _run_id(manifest_path: str) -> str:
    return posixpath.basename(manifest_path).removesuffix(".json")


def _read_json(spark: SparkSession, uri: str) -> dict:
    return json.loads(hadoopfs.read_text(spark, uri) or "{}")


def committed_state(spark: SparkSession, staging_bucket: str, entity: str) -> CommittedState:
    """The committed runs of an entity: one listing, the newest manifest and its checkpoint."""
    listed = {
        _run_id(s.path): s
        for s in hadoopfs.list_files(spark, manifest_root(staging_bucket, entity))
        if s.path.endswith(".json")
    }
    if not listed:
        return CommittedState()
    newest = max(listed.values(), key=lambda s: (s.modified_ms, s.path))
    latest = _read_json(spark, newest.path)
    records: dict[str, dict] = {}
    key_index: list[str] = []
    covers: set[str] = set()
    if latest.get("checkpoint"):
        checkpoint = _read_json(spark, latest["checkpoint"])
        # Only runs whose manifest still exists count: a checkpoint never makes a run committed.
        records = {m["job_run_id"]: m for m in checkpoint.get("runs", []) if m.get("job_run_id") in listed}
        key_index, covers = checkpoint.get("key_index", []), set(checkpoint.get("key_index_covers", []))
    records[_run_id(newest.path)] = latest
    for run_id, status in listed.items():
        if run_id not in records:  # committed beside the newest run, or before checkpoints existed
            records[run_id] = _read_json(spark, status.path)
    if not covers <= set(listed):  # the index holds rows of a run that is no longer committed: unusable
        key_index, covers = [], set()
    manifests = sorted(records.values(), key=lambda m: (m.get("finished_at", ""), m.get("job_run_id", "")))
    return CommittedState(manifests, key_index, covers)


def committed_manifests(spark: SparkSession, staging_bucket: str, entity: str) -> list[dict]:
    """The manifests of committed runs, oldest first."""
    return committed_state(spark, staging_bucket, entity).manifests


def write_checkpoint(spark: SparkSession, staging_bucket: str, manifest: dict, state: CommittedState) -> str:
    """The checkpoint that the run's manifest will name: the runs committed before it and the key index."""
    uri = checkpoint_uri(staging_bucket, manifest["entity"], manifest["job_run_id"])
    document = {
        "runs": [{k: v for k, v in m.items() if k != "checkpoint"} for m in state.manifests],
        "key_index": state.key_index,
        "key_index_covers": sorted(state.key_index_covers),
    }
    hadoopfs.write_text(spark, uri, json.dumps(document, sort_keys=True) + "\n")
    return uri


def write_manifest(spark: SparkSession, staging_bucket: str, manifest: dict) -> str:
    uri = manifest_uri(staging_bucket, manifest["entity"], manifest["job_run_id"])
    hadoopfs.write_text(spark, uri, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return uri


def _committed_partitions(manifests: list[dict], root: str, key: str) -> list[str]:
    return [f"{root}/ingest_date={day}/job_run_id={m['job_run_id']}" for m in manifests for day in m.get(key, [])]


def read_committed(
    spark: SparkSession, staging_bucket: str, entity: str, layer: str = "silver", manifests: list[dict] | None = None
) -> DataFrame | None:
    """Committed silver (or quarantine) rows of an entity, or None when there are none yet."""
    if manifests is None:
        manifests = committed_manifests(spark, staging_bucket, entity)
    if layer == "silver":
        root, key = silver_root(staging_bucket, entity), "silver_ingest_dates"
    else:
        root, key = quarantine_root(staging_bucket, entity), "quarantine_ingest_dates"
    paths = _committed_partitions(manifests, root, key)
    if not paths:
        return None
    return spark.read.option("basePath", root).parquet(*paths)


def partitions_outside_key_index(state: CommittedState) -> int:
    return sum(len(m.get("silver_ingest_dates", [])) for m in state.outside_key_index())


def read_identities(
    spark: SparkSession, staging_bucket: str, entity: str, state: CommittedState, columns: list[str]
) -> DataFrame | None:
    """`columns` (key, version, row_hash) of every committed silver row: the key index plus what it lacks."""
    parts = []
    if state.key_index:
        parts.append(spark.read.parquet(*state.key_index).select(*columns))
    outside = read_committed(spark, staging_bucket, entity, manifests=state.outside_key_index())
    if outside is not None:
        parts.append(outside.select(*columns))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
