"""The stand-in reads the files it listed without Spark asking S3 about each one again.

The rows, their order within each file and the file names must be those of `spark.read.text`, and the
read must cost the emulator one GET per file: no listing, no existence check, and no HEAD to open it (the
runtime's S3A filesystem opens a listed file from the listing's status).
"""

from __future__ import annotations

import gzip
from collections import Counter

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ecomdwh import aws
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs
from glue_local.runtime import listed_read
from tests.conftest import emulator_requests

pytestmark = pytest.mark.integration

PREFIX = "shop/orders/ingest_date=2026-03-01/"
BODIES = {
    "a.csv": b"order_id,status\r\no-1,placed\r\no-2,shipped\r\n",
    "b.jsonl": b'{"order_id": "o-3"}\n\n{"order_id": "o-4"}',
    "c.csv.gz": gzip.compress(b"order_id,status\no-5,placed\n"),
    "d.csv": "order_id,status\no-6,entregue\u00e9\n".encode("latin-1"),
    "e.csv": b"",
}


def _by_file(df: DataFrame) -> dict[str, list[str]]:
    rows = df.select(F.input_file_name().alias("file"), "value").collect()
    lines: dict[str, list[str]] = {}
    for row in rows:
        lines.setdefault(row.file, []).append(row.value)
    return lines


def test_listed_files_read_as_spark_reads_them_for_a_get_each(spark, s3_settings: Settings):
    s3 = aws.s3(s3_settings)
    for name, body in BODIES.items():
        s3.put_object(Bucket=s3_settings.raw_bucket, Key=PREFIX + name, Body=body)
    listed = hadoopfs.list_files(spark, f"s3://{s3_settings.raw_bucket}/{PREFIX}")
    assert len(listed) == len(BODIES)

    before = emulator_requests(s3_settings)
    ours = listed_read.read_text(spark, listed)
    got = _by_file(ours)
    spent = emulator_requests(s3_settings) - before
    # The empty file holds no line to read; each of the others is read (GET) once, opened without a HEAD.
    assert spent == Counter({"GetObject": len(BODIES) - 1}), spent

    before = emulator_requests(s3_settings)
    theirs = spark.read.text([f.path for f in listed])
    expected = _by_file(theirs)
    assert (emulator_requests(s3_settings) - before)["ListObjectsV2"] >= len(BODIES)  # what the listed read saves

    assert ours.columns == theirs.columns == ["value"]  # no partition column guessed from ingest_date=
    assert got == expected
    assert got[f"s3://{s3_settings.raw_bucket}/{PREFIX}a.csv"] == ["order_id,status", "o-1,placed", "o-2,shipped"]
    assert got[f"s3://{s3_settings.raw_bucket}/{PREFIX}c.csv.gz"] == ["order_id,status", "o-5,placed"]


def test_nothing_listed_is_known_empty_without_a_spark_job(spark):
    tracker = spark.sparkContext.statusTracker()
    before = len(tracker.getJobIdsForGroup(None))
    nothing = listed_read.read_text(spark, []).withColumn("source_file", F.input_file_name())
    assert nothing.isEmpty() and nothing.inputFiles() == []
    assert len(tracker.getJobIdsForGroup(None)) == before  # a run with nothing new pays for no job
    assert nothing.columns == ["value", "source_file"] and nothing.count() == 0
