"""A run reads the history through the checkpoint and the key index, and decides exactly as a full
read of silver would, also when a manifest is missing from a checkpoint or was deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdwh import landing
from ecomdwh.bronze_files import csv_text, jsonl_text, write_landing_file
from ecomdwh.contract import ENTITIES
from ecomdwh.settings import Settings
from glue_local.etl import bronze_to_silver, hadoopfs, silver_store
from glue_local.runtime import runner

pytestmark = [pytest.mark.integration, pytest.mark.spark]
ITEMS = ENTITIES["order_items"]
CUSTOMERS = ENTITIES["customers"]


def item(i: int, quantity: int = 1) -> dict:
    return {"order_item_id": f"I{i}", "order_id": f"O{i}", "product_id": "P1", "quantity": quantity,
            "unit_price": "10.00", "discount_amount": None}  # fmt: skip


def customer(i: int, updated_at: str, city: str = "Lisbon") -> list[str]:
    return [f"C{i}", f"c{i}@example.com", "Ana", "Silva", city, "LX", "PT", "consumer", "2026-01-02", updated_at]


def land_day(spark, settings: Settings, root: Path, day: str, items: list[dict], customers: list[list[str]]) -> dict:
    """Land one day of order items and customers and run both entities' jobs; their manifests by entity."""
    write_landing_file(root, ITEMS, day, "items.jsonl", jsonl_text(items))
    write_landing_file(root, CUSTOMERS, day, "customers.csv", csv_text(CUSTOMERS.column_names, customers))
    landing.land(settings, landing.plan(root, day))
    manifests = runner.run_bronze_to_silver(spark, settings, ["order_items", "customers"])
    return {m["entity"]: m for m in manifests}


@pytest.fixture
def history(spark, s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two committed days, the key index rewritten at the second: then the days under test."""
    monkeypatch.setattr(silver_store, "KEY_INDEX_REWRITE_AT", 2)
    v1, v2 = "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"
    land_day(spark, s3_settings, tmp_path, "2026-03-01", [item(i) for i in range(5)], [customer(0, v1)])
    later = [customer(0, v2), customer(1, v1)]
    second = land_day(spark, s3_settings, tmp_path, "2026-03-02", [item(i) for i in range(5, 10)], later)
    assert second["order_items"]["rows_written"] == 5
    return s3_settings, tmp_path


def deduplication_of_day_three(spark, settings: Settings, root: Path) -> dict:
    v1 = "2026-03-01T10:00:00Z"
    items = [item(0), item(6), item(7, quantity=2), item(10)]  # copy, copy, conflicting, new
    customers = [customer(0, v1), customer(1, v1, city="Porto"), customer(2, v1)]  # copy, conflicting, new
    return land_day(spark, settings, root, "2026-03-03", items, customers)


@pytest.mark.parametrize("history_read", ["whole", "by_keys"])
def test_a_run_reads_the_history_from_the_key_index_and_decides_as_a_full_read(
    spark, history, history_read: str, monkeypatch: pytest.MonkeyPatch
):
    settings, root = history
    # A small history is joined whole; a large one is read for the batch's keys (here from any size).
    threshold = 1 << 62 if history_read == "whole" else 0
    monkeypatch.setattr(bronze_to_silver, "HISTORY_BROADCAST_BELOW_BYTES", threshold)
    state = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    assert state.key_index and state.key_index_covers == state.run_ids  # rewritten at the second run
    assert state.outside_key_index() == []

    by_entity = deduplication_of_day_three(spark, settings, root)

    items, customers = by_entity["order_items"], by_entity["customers"]
    assert (items["rows_written"], items["rows_deduplicated"], items["rows_quarantined"]) == (
        1, 2, {"conflicting_key": 1},
    )  # fmt: skip
    assert (customers["rows_written"], customers["rows_deduplicated"], customers["rows_quarantined"]) == (
        1, 1, {"conflicting_version": 1},
    )  # fmt: skip
    # The third run's partition is outside the index (one < two): the next run reads it beside the index.
    state = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    assert [m["job_run_id"] for m in state.outside_key_index()] == [items["job_run_id"]]
    silver = silver_store.read_committed(spark, settings.staging_bucket, "order_items")
    schema = bronze_to_silver.identity_schema(ENTITIES["order_items"])
    last_job = max(spark.sparkContext.statusTracker().getJobIdsForGroup(None), default=-1)
    identities = silver_store.read_identities(spark, settings.staging_bucket, "order_items", state, schema)
    # Typed by the contract, the index and the partitions beside it are read without a job to infer a schema.
    assert max(spark.sparkContext.statusTracker().getJobIdsForGroup(None), default=-1) == last_job
    assert identities.schema == schema
    assert sorted(r.order_item_id for r in identities.collect()) == sorted(r.order_item_id for r in silver.collect())


def test_the_history_costs_two_reads_however_many_runs_committed(spark, history, monkeypatch: pytest.MonkeyPatch):
    settings, root = history
    deduplication_of_day_three(spark, settings, root)
    reads: list[str] = []
    real_read = hadoopfs.read_text
    monkeypatch.setattr(hadoopfs, "read_text", lambda s, uri: reads.append(uri) or real_read(s, uri))

    state = silver_store.committed_state(spark, settings.staging_bucket, "customers")

    assert len(state.manifests) == 3
    assert len(reads) == 2  # the newest manifest and its checkpoint


def test_a_manifest_missing_from_the_checkpoint_is_still_read(spark, history):
    settings, _ = history
    state = silver_store.committed_state(spark, settings.staging_bucket, "customers")
    newest = state.manifests[-1]
    checkpoint = f"s3://{settings.staging_bucket}/{newest['checkpoint']}"
    hadoopfs.delete(spark, checkpoint)  # as if another run committed beside it, unseen

    again = silver_store.committed_state(spark, settings.staging_bucket, "customers")

    assert again.run_ids == state.run_ids
    assert again.key_index == []  # the index is named only by the checkpoint: silver is read whole instead


def test_a_deleted_manifest_uncommits_its_run_even_where_a_checkpoint_and_the_index_hold_it(spark, history):
    settings, root = history
    state = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    first = state.manifests[0]
    hadoopfs.delete(spark, silver_store.manifest_uri(settings.staging_bucket, "order_items", first["job_run_id"]))

    after = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    assert after.run_ids == state.run_ids - {first["job_run_id"]}
    assert after.key_index == []  # it holds the uncommitted run's rows: not used

    # I0 was the first run's: no longer committed, so it is written again rather than called a copy.
    by_entity = deduplication_of_day_three(spark, settings, root)
    assert by_entity["order_items"]["rows_written"] == 2
    assert by_entity["order_items"]["rows_deduplicated"] == 1


def test_a_run_killed_after_rewriting_the_key_index_leaves_the_old_one_and_its_rerun_decides_alike(
    spark, history, monkeypatch: pytest.MonkeyPatch
):
    settings, root = history
    before = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    index_root = f"s3://{settings.staging_bucket}/key_index/order_items"
    index_files = len(hadoopfs.list_files(spark, index_root))
    monkeypatch.setattr(silver_store, "KEY_INDEX_REWRITE_AT", 1)  # the next run writes a new index

    def killed(*_args, **_kwargs):
        raise RuntimeError("killed before the manifest")

    monkeypatch.setattr(silver_store, "write_manifest", killed)
    with pytest.raises(runner.EntityJobsFailed):
        deduplication_of_day_three(spark, settings, root)
    after = silver_store.committed_state(spark, settings.staging_bucket, "order_items")
    assert (after.run_ids, after.key_index) == (before.run_ids, before.key_index)  # the new index is an orphan
    # ...though it was written: only a committed checkpoint names an index.
    assert len(hadoopfs.list_files(spark, index_root)) > index_files

    monkeypatch.undo()
    monkeypatch.setattr(silver_store, "KEY_INDEX_REWRITE_AT", 1)
    rerun = runner.run_bronze_to_silver(spark, settings, ["order_items", "customers"])
    items = {m["entity"]: m for m in rerun}["order_items"]
    assert (items["rows_written"], items["rows_deduplicated"], items["rows_quarantined"]) == (
        1, 2, {"conflicting_key": 1},
    )  # fmt: skip
    assert silver_store.committed_state(spark, settings.staging_bucket, "order_items").outside_key_index() == []
