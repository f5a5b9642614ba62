"""The real Olist sample through the product: land, Glue jobs, warehouse, gold; nothing lost on the way."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from ecomdwh import aws, dbt_runner
from ecomdwh.bronze_files import read_landing_text
from ecomdwh.olist import convert_olist
from ecomdwh.settings import Settings
from ecomdwh.warehouse.load import load
from glue_local.runtime import runner
from tests.conftest import run_cli
from tests.unit.test_olist import OLIST

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not OLIST.is_dir(), reason="the Olist sample lives in shared/, beside the project"),
]


def test_olist_lands_runs_and_reconciles(spark, session_settings: Settings, emulator_env, tmp_path: Path):
    settings = session_settings.with_overrides(env="olist", duckdb_path=tmp_path / "olist.duckdb")
    kept = tmp_path / "bronze"
    landed = run_cli("land", "olist", str(OLIST), "--out", str(kept), env={**emulator_env, "ECOMDWH_ENV": "olist"})
    assert landed.returncode == 0, landed.stdout + landed.stderr

    # What is in the raw bucket, counted row by row, is what the export holds. The byte check is the
    # object's ETag, the MD5 of a single-PUT body: one listing instead of a GET per object.
    rows: Counter[str] = Counter()
    for page in aws.list_pages(settings, settings.raw_bucket):
        for obj in page.get("Contents", []):
            local = kept / obj["Key"]
            assert obj["ETag"].strip('"') == hashlib.md5(local.read_bytes()).hexdigest(), obj["Key"]
            lines = read_landing_text(local).splitlines()
            rows[obj["Key"].split("/")[1]] += len(lines) - (1 if obj["Key"].endswith(".csv") else 0)
    assert rows["order_items"] == 5154 and rows["orders"] == 4071 and rows["payments"] == 4733

    manifests = {m["entity"]: m for m in runner.run_bronze_to_silver(spark, settings)}
    for entity, m in manifests.items():
        assert m["rows_read"] == rows[entity], entity
        assert m["rows_read"] == m["rows_written"] + m["rows_quarantined_total"] + m["rows_deduplicated"]
    assert manifests["order_items"]["rows_written"] == 5154
    # Olist's own gaps, quarantined with their reasons rather than dropped:
    assert manifests["payments"]["rows_quarantined"].get("missing_field", 0) > 0  # payments of absent orders
    assert manifests["products"]["rows_quarantined"].get("missing_field", 0) > 0  # products never sold: no price

    load(settings, "local")
    dbt_runner.build(settings, "local")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    facts, amount = con.execute("select count(*), sum(total_amount) from gold.fact_order_items").fetchone()
    assert (facts, str(amount)) == (5154, "641586.22")
    unknown = dict(con.execute("select dimension, fact_rows from gold.unknown_member_counts").fetchall())
    assert unknown["dim_customers"] > 4000  # most items' orders are not in the sample: kept, on the unknown member


def test_land_olist_refuses_a_folder_that_is_not_an_export(tmp_path: Path, emulator_env):
    result = run_cli("land", "olist", str(tmp_path), env=emulator_env)
    assert result.returncode == 1 and "olist_orders_dataset.csv is missing" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_converted_olist_fits_the_landing_rules(tmp_path: Path):
    from ecomdwh import landing

    convert_olist(OLIST, tmp_path)
    assert len(landing.landing_days(landing.plan(tmp_path))) > 500
