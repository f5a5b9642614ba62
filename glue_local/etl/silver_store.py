"""Where silver, quarantine and run manifests live, and what makes a run visible.

    s3://<staging>/silver/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/quarantine/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/manifests/<entity>/<R>.json
    s3://<staging>/checkpoints/<entity>/<R>.json        (named by manifest R, by key)
    s3://<staging>/key_index/<entity>/<R>/part-*.parquet (named by checkpoint R, by key)

A run's parquet is written first, under its own job_run_id folders; its
manifest is written last, as one object. The manifest is the commit: readers
take only the (ingest_date, job_run_id) partitions that committed manifests
list, so a run that dies mid-write leaves nothing a reader can see, and its
rerun writes new folders beside the orphans. The manifest also lists the
exact files, which is what Redshift's COPY ... MANIFEST wants.

Two things keep a run's cost flat as history grows, and neither is trusted
beyond what the manifests say (ecomdwh.commit_log reads them, for Spark and boto3 alike):
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

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from ecomdwh.commit_log import CommittedRuns, resolve, run_id_of
from glue_local.etl import hadoopfs

# Silver partitions committed outside the key index that make the next run rewrite it.
KEY_INDEX_REWRITE_AT = 8
# The key index's parquet row groups: small enough that a run reading a range of keys skips most of them.
KEY_INDEX_ROW_GROUP_BYTES = 1 << 20


def silver_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/silver/{entity}"


def quarantine_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/quarantine/{entity}"


def manifest_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/manifests/{entity}"


def manifest_uri(staging_bucket: str, entity: str, job_run_id: str) -> str:
    return f"{manifest_root(staging_bucket, entity)}/{job_run_id}.json"


# Checkpoints and key indexes are named by keys within the staging bucket, so a lake copied or
# replicated to another bucket stays whole.
def checkpoint_key(entity: str, job_run_id: str) -> str:
    return f"checkpoints/{entity}/{job_run_id}.json"


def key_index_key(entity: str, job_run_id: str) -> str:
    return f"key_index/{entity}/{job_run_id}"


def _uri(staging_bucket: str, key: str) -> str:
    return f"s3://{staging_bucket}/{key}"


def _read_json(spark: SparkSession, uri: str) -> dict:
    return json.loads(hadoopfs.read_text(spark, uri) or "{}")


def committed_state(spark: SparkSession, staging_bucket: str, entity: str) -> CommittedRuns:
    """The committed runs of an entity: one listing, the newest manifest and its checkpoint."""
    prefix = _uri(staging_bucket, "")
    listed = {
        run_id_of(s.path): (s.modified_ms / 1000, s.path.removeprefix(prefix))
        for s in hadoopfs.list_files(spark, manifest_root(staging_bucket, entity))
        if s.path.endswith(".json")
    }
    return resolve(listed, lambda key: _read_json(spark, _uri(staging_bucket, key)))


def committed_manifests(spark: SparkSession, staging_bucket: str, entity: str) -> list[dict]:
    """The manifests of committed runs, oldest first."""
    return committed_state(spark, staging_bucket, entity).manifests


def write_checkpoint(spark: SparkSession, staging_bucket: str, manifest: dict, state: CommittedRuns) -> str:
    """The checkpoint that the run's manifest will name (its key is returned): the runs committed before it
    and the key index."""
    key = checkpoint_key(manifest["entity"], manifest["job_run_id"])
    document = {
        "runs": [{k: v for k, v in m.items() if k != "checkpoint"} for m in state.manifests],
        "key_index": state.key_index,
        "key_index_covers": sorted(state.key_index_covers),
    }
    hadoopfs.write_text(spark, _uri(staging_bucket, key), json.dumps(document, sort_keys=True) + "\n")
    return key


def write_manifest(spark: SparkSession, staging_bucket: str, manifest: dict) -> str:
    uri = manifest_uri(staging_bucket, manifest["entity"], manifest["job_run_id"])
    hadoopfs.write_text(spark, uri, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return uri


def _committed_partitions(manifests: list[dict], root: str, key: str) -> list[str]:
    return [f"{root}/ingest_date={day}/job_run_id={m['job_run_id']}" for m in manifests for day in m.get(key, [])]


def read_committed(
    spark: SparkSession,
    staging_bucket: str,
    entity: str,
    layer: str = "silver",
    manifests: list[dict] | None = None,
    schema: StructType | None = None,
) -> DataFrame | None:
    """Committed silver (or quarantine) rows of an entity, or None when there are none yet (`schema`: the
    columns to read and their types, instead of the files' own)."""
    if manifests is None:
        manifests = committed_manifests(spark, staging_bucket, entity)
    if layer == "silver":
        root, key = silver_root(staging_bucket, entity), "silver_ingest_dates"
    else:
        root, key = quarantine_root(staging_bucket, entity), "quarantine_ingest_dates"
    paths = _committed_partitions(manifests, root, key)
    if not paths:
        return None
    reader = spark.read.option("basePath", root)
    return (reader.schema(schema) if schema is not None else reader).parquet(*paths)


def partitions_outside_key_index(state: CommittedRuns) -> int:
    return sum(len(m.get("silver_ingest_dates", [])) for m in state.outside_key_index())


def read_identities(
    spark: SparkSession, staging_bucket: str, entity: str, state: CommittedRuns, schema: StructType
) -> DataFrame | None:
    """The `schema`'s columns (key, version, row_hash) of every committed silver row: the key index plus what it
    lacks."""
    columns = schema.fieldNames()
    parts = []
    if state.key_index:
        index = spark.read.schema(schema).parquet(*[_uri(staging_bucket, k) for k in state.key_index])
        parts.append(index.select(*columns))
    outside = read_committed(spark, staging_bucket, entity, manifests=state.outside_key_index(), schema=schema)
    if outside is not None:
        parts.append(outside.select(*columns))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
