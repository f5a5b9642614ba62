"""What a Glue run asks S3, counted by the emulator: listings, small objects, parquet history, bookmarks.

Every request is one more round trip on AWS and one more for the emulator to serve on a laptop; these
tests fail when a probe comes back that the answer did not need.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from ecomdwh import aws
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs
from tests.conftest import emulator_requests
from tests.integration.test_glue_bookmarks import land_items, run_items

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def _spent(settings: Settings, action) -> tuple[object, Counter[str]]:
    before = emulator_requests(settings)
    result = action()
    return result, emulator_requests(settings) - before


def test_a_listing_is_one_request_and_a_missing_prefix_lists_nothing(spark, s3_settings: Settings):
    s3 = aws.s3(s3_settings)
    for name in ("a.json", "b.json", "_hidden/c.json"):
        s3.put_object(Bucket=s3_settings.staging_bucket, Key=f"manifests/orders/{name}", Body=b"{}")
    listed, spent = _spent(
        s3_settings, lambda: hadoopfs.list_files(spark, f"s3://{s3_settings.staging_bucket}/manifests/orders")
    )
    assert [f.path.rsplit("/", 1)[1] for f in listed] == ["a.json", "b.json"]
    assert spent == Counter({"ListObjectsV2": 1}), spent  # no existence check before it
    assert hadoopfs.list_files(spark, f"s3://{s3_settings.staging_bucket}/manifests/nothing") == []


def test_a_small_object_is_read_with_a_head_and_a_get(spark, s3_settings: Settings):
    uri = f"s3://{s3_settings.staging_bucket}/checkpoints/orders/r1.json"
    hadoopfs.write_text(spark, uri, '{"runs": []}\n')
    text, spent = _spent(s3_settings, lambda: hadoopfs.read_text(spark, uri))
    assert text == '{"runs": []}\n'
    assert spent == Counter({"HeadObject": 1, "GetObject": 1}), spent
    missing, spent = _spent(s3_settings, lambda: hadoopfs.read_text(spark, uri.replace("r1", "r2")))
    assert missing is None and spent == Counter({"HeadObject": 1}), spent


def test_parquet_files_spark_listed_are_opened_without_a_head(spark, s3_settings: Settings):
    folder = f"s3://{s3_settings.staging_bucket}/key_index/orders/r1"
    rows = spark.range(3000).select(F.col("id").cast("string").alias("order_id"), (F.col("id") % 7).alias("n"))
    rows.repartition(4).write.parquet(folder)
    files = [f for f in hadoopfs.list_files(spark, folder) if f.path.endswith(".parquet")]
    assert len(files) == 4

    read, spent = _spent(s3_settings, lambda: spark.read.schema("order_id string, n long").parquet(folder).collect())
    assert sorted(int(r.order_id) for r in read) == list(range(3000))
    # Opening a file asks its status, twice per file (its footer, then its row groups): four HEADs per file
    # without the listing's answer. What is left is Spark's look at the folder itself.
    assert spent["HeadObject"] < len(files), spent
    assert spent["GetObject"] >= len(files)


def test_a_deleted_parquet_file_is_not_answered_from_the_listing(spark, s3_settings: Settings):
    folder = f"s3://{s3_settings.staging_bucket}/key_index/orders/r2"
    spark.range(10).coalesce(1).write.parquet(folder)
    assert spark.read.parquet(folder).count() == 10  # listed: its status is known
    [part] = [f.path for f in hadoopfs.list_files(spark, folder) if f.path.endswith(".parquet")]
    fs, path = hadoopfs._fs_and_path(spark, part)
    assert fs.exists(path)
    assert hadoopfs.delete(spark, part)
    _, spent = _spent(s3_settings, lambda: fs.exists(path))
    assert not fs.exists(path) and spent["HeadObject"] >= 1  # asked of S3 again, not of the listing


def test_a_parquet_file_deleted_outside_the_jvm_is_not_read_from_an_older_listing(spark, s3_settings: Settings):
    """As when a lake is reset or restored beside a running Glue session: the next read lists again."""
    folder = f"s3://{s3_settings.staging_bucket}/key_index/orders/r3"
    spark.range(100).repartition(2).write.parquet(folder)
    assert spark.read.parquet(folder).count() == 100  # both files listed, their statuses known
    s3 = aws.s3(s3_settings)
    [gone, kept] = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=s3_settings.staging_bucket, Prefix="key_index/orders/r3/")["Contents"]
        if o["Key"].endswith(".parquet")
    ]
    s3.delete_object(Bucket=s3_settings.staging_bucket, Key=gone)
    left = spark.read.parquet(folder)
    assert left.inputFiles() == [f"s3://{s3_settings.staging_bucket}/{kept}"]
    assert 0 < left.count() < 100


def test_a_run_with_nothing_new_writes_nothing(spark, s3_settings: Settings, tmp_path: Path):
    land_items(s3_settings, tmp_path, "2026-03-01", range(0, 20))
    run_items(spark, s3_settings)
    bookmark = aws.s3(s3_settings).list_objects_v2(Bucket=s3_settings.logs_bucket, Prefix="glue-bookmarks/")
    [before] = bookmark["Contents"]

    manifest, spent = _spent(s3_settings, lambda: run_items(spark, s3_settings))
    assert manifest["files_read"] == []
    assert spent["PutObject"] == 0, spent  # the bookmark stands as it was: nothing to advance
    [after] = aws.s3(s3_settings).list_objects_v2(Bucket=s3_settings.logs_bucket, Prefix="glue-bookmarks/")["Contents"]
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])

    land_items(s3_settings, tmp_path, "2026-03-02", range(20, 30))
    assert run_items(spark, s3_settings)["rows_read"] == 10  # the bookmark still moves when there is news
    assert run_items(spark, s3_settings)["files_read"] == []
