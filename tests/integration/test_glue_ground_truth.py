"""Generated bronze through the real job, day by day: every manifest equals the generator's ground truth."""

from __future__ import annotations

import pytest

from ecomdwh.settings import Settings
from glue_local.etl import silver_store
from tests.conftest import DailyGold

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def replayed(daily_gold: DailyGold) -> tuple[Settings, dict, dict]:
    """The session's three generated landing days (tests/conftest.py), landed and processed one day at a time, as a
    daily schedule would: its lake, its ground truth and each day's manifests."""
    return daily_gold.settings, daily_gold.truth, daily_gold.manifests


def test_each_days_manifest_matches_the_ground_truth(replayed):
    _, truth, manifests = replayed
    for day, entities in truth["days"].items():
        for entity, expected in entities.items():
            m = manifests[day, entity]
            got = (m["rows_read"], m["rows_written"], m["rows_quarantined"], m["rows_deduplicated"])
            want = (expected["rows"], expected["written"], expected["quarantined"], expected["duplicates"])
            assert got == want, (day, entity)
            assert m["rows_read"] == m["rows_written"] + m["rows_quarantined_total"] + m["rows_deduplicated"]
            assert sorted(f.split("-raw/")[-1] for f in m["files_read"]) == sorted(expected["files"])


def test_schema_drift_and_missing_columns_are_reported_per_file(spark, replayed):
    settings, truth, manifests = replayed
    drift = [(d["file"].split("-raw/")[-1], d["extra_columns"]) for m in manifests.values() for d in m["schema_drift"]]
    assert drift == [(d["file"], d["extra_columns"]) for d in truth["file_level"]["schema_drift"]]
    [missing] = truth["file_level"]["missing_column"]
    quarantine = silver_store.read_committed(spark, settings.staging_bucket, "customers", "quarantine")
    whole_file = quarantine.where("reason = 'missing_column'").collect()
    assert {r.source_file.split("-raw/")[-1] for r in whole_file} == {missing["file"]}
    assert {r.reason_column for r in whole_file} == {",".join(missing["missing"])}


def test_silver_and_quarantine_hold_exactly_what_the_manifests_say(spark, replayed):
    settings, truth, _ = replayed
    for entity, totals in truth["totals"].items():
        silver = silver_store.read_committed(spark, settings.staging_bucket, entity)
        quarantine = silver_store.read_committed(spark, settings.staging_bucket, entity, "quarantine")
        assert silver.count() == totals["written"], entity
        reasons = {r.reason: r["count"] for r in quarantine.groupBy("reason").count().collect()}
        assert reasons == totals["quarantined"], entity
    items = silver_store.read_committed(spark, settings.staging_bucket, "order_items")
    total = items.selectExpr("sum(quantity * unit_price - discount_amount) as t").first().t
    assert str(total) == truth["sums"]["order_items_line_amount"]
