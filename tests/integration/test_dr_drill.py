"""The restore drill: a lake replicated, the primary wiped, the lake restored from the replica and gold rebuilt.

The lake is a copy of the session's pipeline-built one (`daily_gold`: landed, glued, loaded and built day by day),
so this test lands and runs no Glue job itself: the drill's one dbt build is its cost. Locally a copy stands in for S3
replication (`recovery.replicate`).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ecomdwh import aws, recovery
from ecomdwh.contract import ENTITIES
from ecomdwh.devtools import emulator
from ecomdwh.settings import Settings
from tests.conftest import DailyGold


def _listing(settings: Settings) -> dict[str, dict[str, tuple[int, str]]]:
    """Key -> (size, ETag) of every object in raw and staging."""
    listed: dict[str, dict[str, tuple[int, str]]] = {}
    for layer, bucket in (("raw", settings.raw_bucket), ("staging", settings.staging_bucket)):
        pages = aws.list_pages(settings, bucket)
        listed[layer] = {o["Key"]: (o["Size"], o["ETag"]) for page in pages for o in page.get("Contents", ())}
    return listed


def _gold(path: Path) -> dict[str, pd.DataFrame]:
    """Every gold table, rows in a fixed order, values as DuckDB returns them (decimals stay decimals)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        listed = con.execute("select table_name from duckdb_tables() where schema_name = 'gold'").fetchall()
        tables = [t for (t,) in listed]
        return {t: con.execute(f"select * from gold.{t} order by all").df() for t in sorted(tables)}
    finally:
        con.close()


@pytest.mark.slow
def test_a_wiped_lake_comes_back_from_its_replica_and_gold_to_the_cent(daily_gold: DailyGold, tmp_path: Path):
    source = daily_gold.settings
    primary = source.with_overrides(env=f"dr{uuid.uuid4().hex[:8]}", duckdb_path=tmp_path / "unused.duckdb", pg={})
    emulator.create_buckets(primary)
    recovery.copy_lake(primary, source, primary)  # the primary's lake: the pipeline-built one
    original = _listing(primary)

    replicated = recovery.replicate(primary)
    replica = recovery.replica_of(primary)
    assert replica.raw_bucket == f"ecomdwh-{primary.env}-dr-raw"  # the names terraform gives the replicas
    expected = {replica.raw_bucket: len(original["raw"]), replica.staging_bucket: len(original["staging"])}
    assert replicated.copied == expected
    assert recovery.replicate(primary).copied == {replica.raw_bucket: 0, replica.staging_bucket: 0}  # nothing left

    emulator.delete_buckets(primary)  # the primary region is gone: buckets and all
    # The session's small world has more referential gaps than the default 10% (tests/integration/test_reconcile.py).
    result = recovery.drill(primary, tmp_path / "drill", max_unknown_share=0.25)

    assert result.passed, result.reconciliation.message()
    assert _listing(primary) == original, "the restored lake must be the replicated one, object for object"
    assert result.run_date == max(day for day, _ in daily_gold.manifests)
    counts = result.reconciliation.layers.layer_counts.set_index("entity")
    for entity in ENTITIES:
        manifests = [m for (_, name), m in daily_gold.manifests.items() if name == entity]
        assert counts.loc[entity, "rows_read"] == sum(m["rows_read"] for m in manifests), entity
        assert counts.loc[entity, "rows_read"] == counts.loc[entity, "rows_accounted"], entity
        assert counts.loc[entity, "warehouse_rows"] == counts.loc[entity, "silver_rows"], entity

    before, after = _gold(source.warehouse_path), _gold(result.warehouse)
    assert list(after) == list(before) and "fact_order_items" in before
    for table, frame in before.items():
        pd.testing.assert_frame_equal(after[table], frame, check_exact=True, obj=f"gold.{table}")
    total = sum(before["fact_order_items"]["total_amount"])
    assert total > 0 and sum(after["fact_order_items"]["total_amount"]) == total  # decimals: to the cent
    assert f"{len(before['fact_order_items'])} fact row(s), total_amount {total:.2f}" in result.sentence()


def test_restore_and_replicate_say_what_is_missing(s3_settings: Settings, cli_in_process, tmp_path: Path):
    env = {
        "AWS_ENDPOINT_URL": s3_settings.endpoint_url,
        "ECOMDWH_ENV": s3_settings.env,
        "ECOMDWH_STATE_DIR": str(tmp_path / "state"),
        "ECOMDWH_EMULATOR": s3_settings.emulator_backend,
    }
    main = cli_in_process(env)
    code, out = main("dr", "restore")
    assert code == 1 and f"The replica s3://ecomdwh-{s3_settings.env}-dr-staging holds no lake" in out, out
    code, out = main("dr", "replicate")
    assert code == 1 and "There is no lake in" in out and "Traceback" not in out, out
    main = cli_in_process(env | {"ECOMDWH_AWS": "1", "AWS_ENDPOINT_URL": ""})
    code, out = main("dr", "replicate")
    assert code == 1 and "S3 replication keeps the replica buckets" in out, out
