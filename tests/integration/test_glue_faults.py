"""Bad bytes and bad values on real Spark + S3: each is quarantined with its reason, the run goes on,
and rows_read = written + quarantined + deduplicated holds exactly (docs/reliability.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ecomdwh import landing
from ecomdwh.bronze_files import csv_text, jsonl_text, write_landing_file
from ecomdwh.contract import ENTITIES
from ecomdwh.reconcile.measure import bronze_rows
from ecomdwh.settings import Settings
from glue_local.etl import silver_store
from glue_local.runtime import runner

pytestmark = [pytest.mark.integration, pytest.mark.spark]
ITEMS = ENTITIES["order_items"]
CUSTOMERS = ENTITIES["customers"]
DAY = "2026-03-01"


def item(i: int, **overrides) -> dict:
    return {"order_item_id": f"I{i}", "order_id": f"O{i}", "product_id": "P1", "quantity": 1,
            "unit_price": "10.00", "discount_amount": None} | overrides  # fmt: skip


def customer(i: int, updated_at: str = "2026-03-01T10:00:00Z", city: str = "Lisbon") -> list[str]:
    return [f"C{i}", f"c{i}@example.com", "Ana", "Silva", city, "LX", "PT", "consumer", "2026-01-02", updated_at]


def land_raw(settings: Settings, root: Path, entity, name: str, data: bytes, day: str = DAY) -> None:
    path = root / entity.path / f"ingest_date={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run(spark, settings: Settings, root: Path, entity: str) -> dict:
    landing.land(settings, landing.plan(root))
    [manifest] = runner.run_bronze_to_silver(spark, settings, [entity])
    total = manifest["rows_written"] + manifest["rows_quarantined_total"] + manifest["rows_deduplicated"]
    assert manifest["rows_read"] == total
    return manifest


def quarantine(spark, settings: Settings, entity: str) -> list:
    df = silver_store.read_committed(spark, settings.staging_bucket, entity, "quarantine")
    return [] if df is None else df.orderBy("source_file", "source_line").collect()


def test_undecodable_and_truncated_files_are_quarantined_whole_and_the_rest_goes_on(
    spark, s3_settings: Settings, tmp_path: Path
):
    good = jsonl_text([item(i) for i in range(5)])
    write_landing_file(tmp_path, ITEMS, DAY, "good.jsonl", good)
    latin1 = jsonl_text([item(10, product_id="Café")]).encode("latin-1")
    land_raw(s3_settings, tmp_path, ITEMS, "latin1.jsonl", latin1)
    utf16 = jsonl_text([item(20), item(21)]).encode("utf-16")
    land_raw(s3_settings, tmp_path, ITEMS, "utf16.jsonl", utf16)
    whole = gzip.compress(jsonl_text([item(i) for i in range(30, 230)]).encode())
    land_raw(s3_settings, tmp_path, ITEMS, "truncated.jsonl.gz", whole[: len(whole) // 2])

    manifest = run(spark, s3_settings, tmp_path, "order_items")

    assert manifest["rows_written"] == 5
    assert set(manifest["rows_quarantined"]) == {"undecodable_file", "corrupt_compression"}
    assert manifest["rows_quarantined"]["corrupt_compression"] == 1  # the file counts as one row
    assert len(manifest["files_read"]) == 4
    rows = quarantine(spark, s3_settings, "order_items")
    by_file = {}
    for r in rows:
        by_file.setdefault(r.source_file.rsplit("/", 1)[-1], set()).add(r.reason)
    assert by_file == {
        "latin1.jsonl": {"undecodable_file"},
        "utf16.jsonl": {"undecodable_file"},
        "truncated.jsonl.gz": {"corrupt_compression"},
    }
    # Bronze measured independently counts what the job read, bad files included.
    assert sum(bronze_rows(s3_settings)["order_items"].values()) == manifest["rows_read"]
    # The bookmark advanced: the next run has nothing to read and does not fail.
    [again] = runner.run_bronze_to_silver(spark, s3_settings, ["order_items"])
    assert again["rows_read"] == 0


def test_timestamps_outside_the_contract_range_are_bad_timestamps(spark, s3_settings: Settings, tmp_path: Path):
    rows = [
        customer(1, "0001-01-01T00:00:00Z"),
        customer(2, "1899-12-31T23:59:59Z"),
        customer(3, "1969-12-31T23:59:59Z"),
        customer(4, "2100-01-01T00:00:00Z"),
        customer(5, "1970-01-01T00:00:00Z"),
        customer(6, "2099-12-31T23:59:59Z"),
    ]
    write_landing_file(tmp_path, CUSTOMERS, DAY, "customers.csv", csv_text(CUSTOMERS.column_names, rows))
    manifest = run(spark, s3_settings, tmp_path, "customers")
    assert manifest["rows_quarantined"] == {"bad_timestamp": 4}
    silver = silver_store.read_committed(spark, s3_settings.staging_bucket, "customers")
    assert sorted(r.customer_id for r in silver.collect()) == ["C5", "C6"]


def test_a_line_amount_beyond_the_warehouse_decimal_is_quarantined(spark, s3_settings: Settings, tmp_path: Path):
    records = [
        item(1, quantity=999999999, unit_price="999999999999999.99"),
        item(2, quantity=100000, unit_price="99999999999.99"),  # 9,999,999,999,999,000: fits
        item(3),
    ]
    write_landing_file(tmp_path, ITEMS, DAY, "items.jsonl", jsonl_text(records))
    manifest = run(spark, s3_settings, tmp_path, "order_items")
    assert manifest["rows_quarantined"] == {"amount_out_of_range": 1}
    assert [r.source_line for r in quarantine(spark, s3_settings, "order_items")] == [1]


def test_two_contents_for_one_version_keep_the_first_and_quarantine_the_other(
    spark, s3_settings: Settings, tmp_path: Path
):
    first = csv_text(CUSTOMERS.column_names, [customer(1), customer(2)])
    write_landing_file(tmp_path, CUSTOMERS, DAY, "a.csv", first)
    # Same key and updated_at as C1 in a.csv, another city: undecidable, so the first seen stands.
    write_landing_file(tmp_path, CUSTOMERS, DAY, "b.csv", csv_text(CUSTOMERS.column_names, [customer(1, city="Porto")]))
    manifest = run(spark, s3_settings, tmp_path, "customers")
    assert (manifest["rows_written"], manifest["rows_quarantined"]) == (2, {"conflicting_version": 1})

    # The same conflict against what silver already holds, on a later day.
    later = csv_text(CUSTOMERS.column_names, [customer(2, city="Faro"), customer(2, "2026-03-02T09:00:00Z", "Faro")])
    write_landing_file(tmp_path, CUSTOMERS, "2026-03-02", "c.csv", later)
    manifest = run(spark, s3_settings, tmp_path, "customers")
    assert (manifest["rows_written"], manifest["rows_quarantined"]) == (1, {"conflicting_version": 1})
    silver = silver_store.read_committed(spark, s3_settings.staging_bucket, "customers").collect()
    assert sorted((r.customer_id, r.city) for r in silver) == [("C1", "Lisbon"), ("C2", "Faro"), ("C2", "Lisbon")]


def test_a_bookmark_reset_replays_nothing_twice(spark, s3_settings: Settings, tmp_path: Path):
    records = [item(i) for i in range(20)] + [item(99, quantity=0), item(98, quantity=0)]
    write_landing_file(tmp_path, ITEMS, DAY, "items.jsonl", jsonl_text(records))
    first = run(spark, s3_settings, tmp_path, "order_items")
    assert (first["rows_written"], first["rows_quarantined_total"]) == (20, 2)
    before = quarantine(spark, s3_settings, "order_items")

    for name in ENTITIES:
        runner.reset_bookmark(spark, s3_settings, runner.job_name(s3_settings, "bronze_to_silver", name))
    [replay] = runner.run_bronze_to_silver(spark, s3_settings, ["order_items"])
    assert (replay["rows_read"], replay["files_already_committed"]) == (0, 1)
    assert [tuple(r) for r in quarantine(spark, s3_settings, "order_items")] == [tuple(r) for r in before]
    manifests = silver_store.committed_manifests(spark, s3_settings.staging_bucket, "order_items")
    assert sum(m["rows_read"] for m in manifests) == sum(bronze_rows(s3_settings)["order_items"].values())


def test_one_entity_failing_does_not_stop_the_others(spark, s3_settings: Settings, tmp_path: Path, monkeypatch):
    from glue_local.etl import bronze_to_silver

    write_landing_file(tmp_path, ITEMS, DAY, "items.jsonl", jsonl_text([item(i) for i in range(3)]))
    write_landing_file(tmp_path, CUSTOMERS, DAY, "customers.csv", csv_text(CUSTOMERS.column_names, [customer(1)]))
    landing.land(s3_settings, landing.plan(tmp_path))
    real_run = bronze_to_silver.run

    def faulty(spark, entity, *args, **kwargs):
        if entity.name == "customers":
            raise RuntimeError("injected fault [/bold] in the customers job")
        return real_run(spark, entity, *args, **kwargs)

    monkeypatch.setattr(bronze_to_silver, "run", faulty)
    with pytest.raises(runner.EntityJobsFailed) as failed:
        runner.run_bronze_to_silver(spark, s3_settings, ["customers", "order_items"])
    assert list(failed.value.failures) == ["customers"]
    assert [m["entity"] for m in failed.value.manifests] == ["order_items"]
    assert failed.value.manifests[0]["rows_written"] == 3
    assert "injected fault [/bold]" in str(failed.value) and "--entity customers" in str(failed.value)

    monkeypatch.setattr(bronze_to_silver, "run", real_run)  # the fault fixed, the rerun catches up
    [customers, items] = runner.run_bronze_to_silver(spark, s3_settings, ["customers", "order_items"])
    assert (customers["rows_written"], items["rows_read"]) == (1, 0)


def test_two_runs_of_one_job_at_once_commit_each_file_once(spark, s3_settings: Settings, tmp_path: Path, monkeypatch):
    from glue_local.etl import bronze_to_silver

    write_landing_file(tmp_path, ITEMS, DAY, "items.jsonl", jsonl_text([item(i) for i in range(10)]))
    landing.land(s3_settings, landing.plan(tmp_path))
    real_transform = bronze_to_silver.transform
    racing, raced = [], []

    def transform_then_race(*args, **kwargs):
        result = real_transform(*args, **kwargs)
        if not racing:  # a second run starts, reads the same file and commits first
            racing.append(True)
            raced.extend(runner.run_bronze_to_silver(spark, s3_settings, ["order_items"], None, "job-bookmark-pause"))
        return result

    monkeypatch.setattr(bronze_to_silver, "transform", transform_then_race)
    with pytest.raises(runner.EntityJobsFailed, match="another run .* committed 1 of this run's 1 file"):
        runner.run_bronze_to_silver(spark, s3_settings, ["order_items"])
    assert raced[0]["rows_written"] == 10
    manifests = silver_store.committed_manifests(spark, s3_settings.staging_bucket, "order_items")
    assert len(manifests) == 1
    assert silver_store.read_committed(spark, s3_settings.staging_bucket, "order_items").count() == 10
