"""The Glue job run as Glue runs it, on real Spark + S3: bookmarks, reruns, a crash mid-commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ecomdwh import aws, landing, spark_jars
from ecomdwh.bronze_files import jsonl_text, write_landing_file
from ecomdwh.contract import ENTITIES
from ecomdwh.devtools import emulator
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs, silver_store
from glue_local.runtime import runner
from tests.conftest import ROOT, emulator_requests

pytestmark = [pytest.mark.integration, pytest.mark.spark]
ITEMS = ENTITIES["order_items"]


def land_items(settings: Settings, root: Path, day: str, ids: range, name: str = "items.jsonl") -> None:
    records = [
        {"order_item_id": f"I{i}", "order_id": f"O{i // 2}", "product_id": f"P{i % 7}", "quantity": 1 + i % 3,
         "unit_price": f"{5 + i % 11}.{i % 100:02d}", "discount_amount": "0.50" if i % 5 == 0 else None}
        for i in ids
    ]  # fmt: skip
    write_landing_file(root, ITEMS, day, name, jsonl_text(records))
    landing.land(settings, landing.plan(root, day))


def run_items(spark, settings: Settings, option: str = "job-bookmark-enable", day: str | None = None) -> dict:
    [manifest] = runner.run_bronze_to_silver(spark, settings, ["order_items"], day, option)
    return manifest


def silver_hashes(spark, settings: Settings) -> list[str]:
    df = silver_store.read_committed(spark, settings.staging_bucket, "order_items")
    return sorted(r.row_hash for r in df.select("row_hash").collect()) if df is not None else []


def test_bookmarks_read_each_file_once_and_pause_does_not_advance(spark, s3_settings: Settings, tmp_path: Path):
    land_items(s3_settings, tmp_path, "2026-03-01", range(0, 50))
    first = run_items(spark, s3_settings)
    assert (len(first["files_read"]), first["rows_read"], first["rows_written"]) == (1, 50, 50)
    assert run_items(spark, s3_settings)["files_read"] == []  # nothing new: nothing read

    land_items(s3_settings, tmp_path, "2026-03-02", range(50, 80))
    paused = run_items(spark, s3_settings, "job-bookmark-pause")
    assert paused["rows_read"] == 30
    # Pause did not advance the bookmark, so the new day is listed again; the paused run committed it,
    # so it is skipped whole, not read and counted twice.
    again = run_items(spark, s3_settings)
    assert (again["rows_read"], again["files_already_committed"]) == (0, 1)
    assert run_items(spark, s3_settings)["files_already_committed"] == 0

    everything = run_items(spark, s3_settings, "job-bookmark-disable")
    assert (everything["rows_read"], everything["files_already_committed"]) == (0, 2)
    assert len(silver_hashes(spark, s3_settings)) == 80


def test_reset_bookmark_and_rerun_does_not_duplicate_silver(spark, s3_settings: Settings, tmp_path: Path):
    land_items(s3_settings, tmp_path, "2026-03-01", range(0, 40))
    run_items(spark, s3_settings)
    before = silver_hashes(spark, s3_settings)
    assert runner.reset_bookmark(spark, s3_settings, runner.job_name(s3_settings, "bronze_to_silver", "order_items"))
    rerun = run_items(spark, s3_settings)
    assert (rerun["rows_read"], rerun["files_already_committed"]) == (0, 1)
    assert silver_hashes(spark, s3_settings) == before


def test_ingest_date_argument_reads_only_that_day(spark, s3_settings: Settings, tmp_path: Path):
    land_items(s3_settings, tmp_path, "2026-03-01", range(0, 10))
    land_items(s3_settings, tmp_path, "2026-03-02", range(10, 15))
    manifest = run_items(spark, s3_settings, day="2026-03-02")
    assert manifest["rows_read"] == 5 and manifest["silver_ingest_dates"] == ["2026-03-02"]


def test_parquet_goes_straight_to_its_final_key(spark, s3_settings: Settings, tmp_path: Path):
    # The local runtime's direct committer: no _temporary folders and no renames, one object per landing day.
    assert spark.conf.get("spark.sql.parquet.output.committer.class") == spark_jars.COMMITTER_CLASS
    land_items(s3_settings, tmp_path, "2026-03-01", range(0, 40))
    land_items(s3_settings, tmp_path, "2026-03-02", range(40, 70))
    manifest = run_items(spark, s3_settings)
    pages = aws.list_pages(s3_settings, s3_settings.staging_bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    silver = sorted(k for k in keys if k.startswith("silver/"))
    assert [k.split("/")[2] for k in silver] == ["ingest_date=2026-03-01", "ingest_date=2026-03-02"]
    assert all(k.split("/")[3] == f"job_run_id={manifest['job_run_id']}" and k.endswith(".parquet") for k in silver)
    assert not [k for k in keys if "_temporary" in k or ".spark-staging" in k]
    assert len(silver_hashes(spark, s3_settings)) == 70


def test_a_new_file_is_one_put(spark, s3_settings: Settings):
    """The runtime's S3A filesystem uploads a new file without probing S3 first and answers the status question
    Spark's writer asks next from what it wrote: one PUT a file, where hadoop-aws 3.3.1 alone sends a HEAD and a
    LIST before it and a HEAD after. (A listed file's read, one GET: test_listed_read.py.)"""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    assert conf.get("fs.s3.impl") == spark_jars.FILESYSTEM_CLASS
    staging = s3_settings.staging_bucket
    path = jvm.org.apache.hadoop.fs.Path(f"s3://{staging}/silver/probe/part-0.txt")
    fs = path.getFileSystem(conf)

    before = emulator_requests(s3_settings)
    out = fs.create(path, False)  # a new file, as Spark's writer creates each part file
    out.write(bytearray(b"twelve bytes"))
    out.close()
    assert fs.getFileStatus(path).getLen() == 12  # what Spark asks next, answered by what was written
    assert emulator_requests(s3_settings) - before == Counter({"PutObject": 1})
    assert fs.getFileStatus(path).getLen() == 12  # asked again: S3 answers
    assert emulator_requests(s3_settings) - before == Counter({"PutObject": 1, "HeadObject": 1})
    assert aws.s3(s3_settings).head_object(Bucket=staging, Key="silver/probe/part-0.txt")["ContentLength"] == 12

    # A small file written twice is replaced, as the runtime's checkpoints and bookmarks are.
    uri = f"s3://{staging}/state/probe.json"
    hadoopfs.write_text(spark, uri, '{"v": 1}')
    hadoopfs.write_text(spark, uri, '{"v": 22}')
    assert hadoopfs.read_text(spark, uri) == '{"v": 22}'
    assert [f.size for f in hadoopfs.list_files(spark, f"s3://{staging}/state/")] == [9]


CRASH_BEFORE_COMMIT = """
import os, signal, sys
from glue_local.etl import hadoopfs, silver_store
def die(*args, **kwargs):  # the parquet is written; the process dies before the manifest commits it
    os.kill(os.getpid(), signal.SIGKILL)
silver_store.write_manifest = die
sys.argv = ["ecomdwh", "glue", "run", "bronze_to_silver", "--entity", "order_items"]
from ecomdwh.cli import main
main()
"""


@pytest.mark.slow
def test_a_run_killed_mid_commit_leaves_nothing_visible_and_the_rerun_matches_a_clean_run(
    spark, s3_settings: Settings, session_settings: Settings, emulator_env: dict[str, str], tmp_path: Path
):
    land_items(s3_settings, tmp_path / "a", "2026-03-01", range(0, 300))
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BEFORE_COMMIT],
        cwd=ROOT,
        env={**os.environ, **emulator_env, "ECOMDWH_ENV": s3_settings.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    orphans = hadoopfs.list_files(spark, silver_store.silver_root(s3_settings.staging_bucket, "order_items"))
    assert orphans, "the crashed run should have written parquet before dying"
    assert silver_store.committed_manifests(spark, s3_settings.staging_bucket, "order_items") == []
    assert silver_store.read_committed(spark, s3_settings.staging_bucket, "order_items") is None

    rerun = run_items(spark, s3_settings)  # the bookmark did not advance: the file is read again
    assert (rerun["rows_read"], rerun["rows_written"]) == (300, 300)

    clean = session_settings.with_overrides(env=s3_settings.env + "c")
    emulator.create_buckets(clean)
    land_items(clean, tmp_path / "b", "2026-03-01", range(0, 300))
    run_items(spark, clean)
    assert silver_hashes(spark, s3_settings) == silver_hashes(spark, clean)
    assert len(silver_hashes(spark, s3_settings)) == 300
