"""A damaged copy of the real Olist sample through the product: land, Glue jobs, warehouse, gold.

The copy is the sample as a spreadsheet and a hurried analyst leave it (tests.unit.test_olist.damaged_copy);
gold is checked against a count made here, straight from the damaged CSVs.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ecomdwh import analytics, aws, dbt_runner
from ecomdwh.bronze_files import read_landing_text
from ecomdwh.olist import FILES
from ecomdwh.settings import Settings
from ecomdwh.warehouse.load import load
from glue_local.runtime import runner
from tests.conftest import run_cli
from tests.unit.test_olist import BLANK, OLIST, PRODUCT_NAME, damaged_copy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not OLIST.is_dir(), reason="the Olist sample lives in shared/, beside the project"),
]


def rows_of(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    """A damaged CSV's rows, blank ones left out, read with nothing but the csv module."""
    with path.open(newline="", encoding=encoding) as fh:
        return [r for r in csv.DictReader(fh) if any(v for v in r.values())]


def test_damaged_olist_lands_runs_and_gold_matches_an_independent_count(
    spark, session_settings: Settings, emulator_env, tmp_path: Path
):
    export = damaged_copy(tmp_path / "export")
    settings = session_settings.with_overrides(env="olist", duckdb_path=tmp_path / "olist.duckdb")
    kept = tmp_path / "bronze"
    landed = run_cli("land", "olist", str(export), "--out", str(kept), env={**emulator_env, "ECOMDWH_ENV": "olist"})
    assert landed.returncode == 0, landed.stdout + landed.stderr

    orders = rows_of(export / FILES["orders"])
    items = rows_of(export / FILES["order_items"])
    payments = rows_of(export / FILES["payments"])
    products = rows_of(export / "products.csv")
    customers = rows_of(export / FILES["customers"], "latin-1")
    # Per file, printed: source rows = landed + blank rows skipped (nothing else is skipped in this copy).
    for name, rows in ((FILES["orders"], orders), (FILES["order_items"], items), (FILES["payments"], payments),
                       ("products.csv", products), (FILES["customers"], customers)):  # fmt: skip
        line = f"{name}: {len(rows) + BLANK} source rows = {len(rows)} landed + {BLANK} blank skipped"
        assert line in landed.stdout, landed.stdout
    assert f"{FILES['categories']}: missing" in landed.stdout

    # What is in the raw bucket, counted row by row, is what the export holds. The byte check is the
    # object's ETag, the MD5 of a single-PUT body: one listing instead of a GET per object.
    bucket: Counter[str] = Counter()
    for page in aws.list_pages(settings, settings.raw_bucket):
        for obj in page.get("Contents", []):
            local = kept / obj["Key"]
            assert obj["ETag"].strip('"') == hashlib.md5(local.read_bytes()).hexdigest(), obj["Key"]
            lines = read_landing_text(local).splitlines()
            bucket[obj["Key"].split("/")[1]] += len(lines) - (1 if obj["Key"].endswith(".csv") else 0)
    assert (bucket["orders"], bucket["order_items"], bucket["payments"]) == (len(orders), len(items), len(payments))
    assert (bucket["products"], bucket["customers"]) == (len(products), len(customers))

    manifests = {m["entity"]: m for m in runner.run_bronze_to_silver(spark, settings)}
    for entity, m in manifests.items():
        assert m["rows_read"] == bucket[entity], entity
        assert m["rows_read"] == m["rows_written"] + m["rows_quarantined_total"] + m["rows_deduplicated"]
    # The damage, each row quarantined or deduplicated with the contract's reason rather than dropped:
    assert manifests["order_items"]["rows_quarantined_total"] == 1  # the empty key
    assert manifests["order_items"]["rows_quarantined"].get("missing_field") == 1
    assert manifests["order_items"]["rows_deduplicated"] == 1  # the exact duplicate
    assert manifests["orders"]["rows_quarantined"].get("missing_field") == 1
    assert manifests["orders"]["rows_deduplicated"] == 1
    assert manifests["payments"]["rows_quarantined"].get("conflicting_key") == 1
    # Olist's own gaps: payments of absent orders have no time, products never sold no price.
    assert manifests["payments"]["rows_quarantined"].get("missing_field", 0) > 0
    assert manifests["products"]["rows_quarantined"].get("missing_field", 0) > 0

    load(settings, "local")
    dbt_runner.build(settings, "local")

    # The independent count: an item with its whole key, the first row of each key, at its price.
    first: dict[tuple[str, str], dict[str, str]] = {}
    for item in items:
        if item["order_id"] and item["order_item_id"]:
            first.setdefault((item["order_id"], item["order_item_id"]), item)
    revenue = sum(Decimal(i["price"]) for i in first.values())
    known_orders = {o["order_id"] for o in orders if o["order_id"]}
    dated = sum(Decimal(i["price"]) for i in first.values() if i["order_id"] in known_orders)
    sold_named = {i["product_id"] for i in first.values() if i["order_id"] in known_orders} & {
        p["product_id"] for p in products
    }
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        facts, amount = con.execute("select count(*), sum(total_amount) from gold.fact_order_items").fetchone()
        assert (facts, amount) == (len(first), revenue) == (5153, revenue)
        unknown = dict(con.execute("select dimension, fact_rows from data_quality.unknown_member_counts").fetchall())
        assert unknown["dim_customers"] > 4000  # most items' orders are not in the copy: kept, on the unknown member

        # The README's two queries. Revenue by month: every item, those with no order under `unknown`.
        months = analytics.monthly_revenue_trend(con)
        cents = months["revenue"].map(lambda v: Decimal(str(round(v, 2))))
        by_month = dict(zip(months["year_month"], cents, strict=True))
        assert sum(by_month.values()) == revenue and by_month["unknown"] == revenue - dated
        assert len(by_month) > 20
        # Top products: the products sold with a known order, by a name a person can read.
        top = analytics.top_products(con)
        named = top[top["product_id"] != "-1"]
        assert set(named["product_id"]) == sold_named and 0 < len(sold_named) < 10
        for name, product_id in zip(named["product_name"], named["product_id"], strict=True):
            assert PRODUCT_NAME.match(name) and name.endswith(" " + product_id[:8]), name
    finally:
        con.close()


def test_land_olist_refuses_a_folder_that_is_not_an_export(tmp_path: Path, emulator_env):
    result = run_cli("land", "olist", str(tmp_path), env=emulator_env)
    assert result.returncode == 1 and "olist_orders_dataset.csv is missing" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
