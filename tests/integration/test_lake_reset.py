"""An emptied lake (what a restarted S3 emulator leaves) against a warehouse that has data:
the tool says so, and a rebuild loads nothing twice (docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdwh import aws, landing
from ecomdwh.contract import ENTITIES
from ecomdwh.devtools import emulator
from ecomdwh.errors import UserError
from ecomdwh.generator import generate
from ecomdwh.reconcile import check_lake_matches_warehouse
from ecomdwh.settings import Settings
from ecomdwh.warehouse.connection import connect
from ecomdwh.warehouse.load import load
from glue_local.runtime import runner

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def empty_the_lake(settings: Settings) -> None:
    """What a restarted in-memory emulator leaves: the buckets (recreated on start), and nothing in them."""
    s3 = aws.s3(settings)
    for bucket in settings.buckets:
        for page in aws.list_pages(settings, bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
    emulator.create_buckets(settings)


def warehouse_rows(settings: Settings) -> dict[str, int]:
    con = connect(settings, "local", read_only=True)
    try:
        return {name: con.execute(f"select count(*) from silver.{name}").fetchone()[0] for name in ENTITIES}
    finally:
        con.close()


def lake_check(settings: Settings) -> None:
    con = connect(settings, "local", read_only=True)
    try:
        check_lake_matches_warehouse(settings, con)
    finally:
        con.close()


@pytest.mark.slow
def test_an_emptied_lake_is_named_and_its_rebuild_loads_nothing_twice(spark, s3_settings: Settings, tmp_path: Path):
    bronze = tmp_path / "bronze"
    generate(bronze, days=2, orders_per_day=40, seed=5, bad_rate=0.05)
    settings = s3_settings.with_overrides(duckdb_path=tmp_path / "warehouse.duckdb")

    def land_glue_load():
        landing.land(settings, landing.plan(bronze))
        runner.run_bronze_to_silver(spark, settings)
        return load(settings, "local")

    first = land_glue_load()
    assert not first.lake_reset and sum(first.loaded.values()) > 0
    before = warehouse_rows(settings)
    assert before == dict(first.loaded)
    lake_check(settings)  # the lake it was loaded from: fine

    empty_the_lake(settings)
    with pytest.raises(UserError, match=r"is empty .* run `ecomdwh run`"):
        lake_check(settings)

    rebuilt = land_glue_load()  # new job run ids, the same rows
    assert rebuilt.lake_reset and "recognised by content" in (rebuilt.note() or "")
    assert sum(rebuilt.loaded.values()) == 0 and dict(rebuilt.already_loaded) == before
    assert warehouse_rows(settings) == before
    lake_check(settings)  # the rebuilt lake is now the warehouse's lake

    again = load(settings, "local")
    assert not again.loaded and not again.already_loaded and not again.lake_reset
