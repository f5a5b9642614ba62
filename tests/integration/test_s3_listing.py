"""Listings of hive-style keys ("ingest_date=...") are complete, past S3's 1,000-key page.

LocalStack 4.13.1 pages such listings wrongly and loses objects; the workbench asks the
emulator for one page instead. These tests fail if that protection goes away.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ecomdwh import aws
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs

pytestmark = pytest.mark.integration
KEYS = [f"shop/orders/ingest_date=2026-{m:02d}-{d:02d}/part-{p}.jsonl" for m in range(1, 13) for d in range(1, 29)
        for p in range(4)]  # fmt: skip


@pytest.fixture(scope="module")
def crowded(session_settings: Settings) -> Settings:
    from ecomdwh.devtools import emulator

    settings = session_settings.with_overrides(env="paging")
    emulator.create_buckets(settings)
    s3 = aws.s3(settings)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=settings.raw_bucket, Key=k, Body=b"{}\n"), KEYS))
    return settings


def test_boto3_listing_is_complete(crowded: Settings):
    listed = [o["Key"] for page in aws.list_pages(crowded, crowded.raw_bucket, "shop/") for o in page["Contents"]]
    assert len(KEYS) > 1000 and sorted(listed) == sorted(KEYS)


def test_spark_listing_is_complete(spark, crowded: Settings):
    files = hadoopfs.list_files(spark, f"s3://{crowded.raw_bucket}/shop/orders/")
    assert len(files) == len(KEYS)
