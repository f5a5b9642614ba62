"""Where silver, quarantine and run manifests live, and what makes a run visible.

    s3://<staging>/silver/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/quarantine/<entity>/ingest_date=D/job_run_id=R/part-*.parquet
    s3://<staging>/manifests/<entity>/<R>.json

A run's parquet is written first, under its own job_run_id folders; its
manifest is written last, as one object. The manifest is the commit: readers
take only the (ingest_date, job_run_id) partitions that committed manifests
list, so a run that dies mid-write leaves nothing a reader can see, and its
rerun writes new folders beside the orphans. The manifest also lists the
exact files, which is what Redshift's COPY ... MANIFEST wants.
"""

from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession

from glue_local.etl import hadoopfs


def silver_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/silver/{entity}"


def quarantine_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/quarantine/{entity}"


def manifest_root(staging_bucket: str, entity: str) -> str:
    return f"s3://{staging_bucket}/manifests/{entity}"


def manifest_uri(staging_bucket: str, entity: str, job_run_id: str) -> str:
    return f"{manifest_root(staging_bucket, entity)}/{job_run_id}.json"


def committed_manifests(spark: SparkSession, staging_bucket: str, entity: str) -> list[dict]:
    """The manifests of committed runs, oldest first."""
    manifests = []
    for status in hadoopfs.list_files(spark, manifest_root(staging_bucket, entity)):
        if status.path.endswith(".json"):
            manifests.append(json.loads(hadoopfs.read_text(spark, status.path) or "{}"))
    return sorted(manifests, key=lambda m: (m.get("finished_at", ""), m.get("job_run_id", "")))


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
