"""The Olist-shaped export the `olist` bench case generates: Kaggle's files, and every row lands through the adapter.

The cases themselves run in tests/integration/test_bench_cases.py.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from ecomdwh.contract import DOMAINS
from ecomdwh.devtools import benchmark
from ecomdwh.errors import UserError
from ecomdwh.generator.olist_shaped import HEADERS, sizes, write_olist_export
from ecomdwh.olist import FILES, OPTIONAL, REQUIRED, convert_olist
from ecomdwh.settings import Settings
from tests.unit.test_olist import bronze

ORDERS, DAYS = 300, 20


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("olist-shaped")
    return folder, write_olist_export(folder, ORDERS, DAYS, seed=3)


def rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_the_export_is_kaggles_files_with_their_headers_and_counts(export):
    folder, counts = export
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())
    for table, name in FILES.items():
        header, table_rows = rows(folder / name)
        assert header == HEADERS[table]
        assert set(REQUIRED[table] + OPTIONAL[table]) <= set(header)
        assert len(table_rows) == counts[table], table
    first_line = (folder / FILES["orders"]).read_text().splitlines()[1]
    assert first_line.startswith('"') and ",20" in first_line  # quoted ids, bare São Paulo times
    assert (folder / FILES["categories"]).read_bytes().startswith(b"\xef\xbb\xbf")
    assert counts["orders"] == counts["customers"] == ORDERS
    assert ORDERS < counts["order_items"] < 1.3 * ORDERS
    assert ORDERS <= counts["payments"] < 1.2 * ORDERS
    assert counts["days"] == DAYS


def test_the_export_is_clean_olist(export):
    folder, counts = export
    orders = rows(folder / FILES["orders"])[1]
    items = rows(folder / FILES["order_items"])[1]
    payments = rows(folder / FILES["payments"])[1]
    products = rows(folder / FILES["products"])[1]
    customers = rows(folder / FILES["customers"])[1]
    order_ids = {o["order_id"] for o in orders}
    assert len(order_ids) == ORDERS and {i["order_id"] for i in items} == order_ids
    assert {p["order_id"] for p in payments} == order_ids
    assert {i["product_id"] for i in items} == {p["product_id"] for p in products}  # every product sold
    assert len({c["customer_unique_id"] for c in customers}) == ORDERS
    assert {o["customer_id"] for o in orders} == {c["customer_id"] for c in customers}
    # Nothing after the export's last purchase day.
    end = (date.fromisoformat(counts["last_purchase_day"]) + timedelta(days=1)).isoformat()
    stamps = [o[c] for o in orders for c in ("order_approved_at", "order_delivered_customer_date") if o[c]]
    assert max(stamps) < end
    # An order pays its items and their freight.
    paid: dict[str, float] = {}
    for p in payments:
        paid[p["order_id"]] = paid.get(p["order_id"], 0) + float(p["payment_value"])
    owed: dict[str, float] = {}
    for i in items:
        owed[i["order_id"]] = owed.get(i["order_id"], 0) + float(i["price"]) + float(i["freight_value"])
    assert all(abs(paid[o] - owed[o]) < 0.005 for o in order_ids)


def test_every_source_row_lands_with_no_skip(export, tmp_path: Path):
    folder, counts = export
    summary = convert_olist(folder, tmp_path)
    for report in summary["files"]:
        assert report.file == FILES[report.table]
        assert report.source_rows == counts[report.table] == report.landed + report.blank + sum(report.skipped.values())
        assert (report.blank, report.skipped, report.key_seen_before) == (0, {}, 0), report
        if report.table != "categories":
            assert report.notes == [], report  # no format it had to guess, no value it could not read
    assert summary["unused_files"] == []
    for table in ("orders", "order_items", "payments", "customers", "products"):
        assert summary["rows"][table] == counts[table]
    landed = bronze(tmp_path)
    assert {r["status"] for r in landed["orders"]} <= set(DOMAINS["order_status"])
    assert {r["payment_method"] for r in landed["payments"]} <= set(DOMAINS["payment_method"])
    assert all(r["unit_price"] for r in landed["products"])  # each product has its first sale's price


def test_same_seed_same_bytes_and_sizes(tmp_path: Path):
    first = write_olist_export(tmp_path / "a", 50, 5, seed=9)
    again = write_olist_export(tmp_path / "b", 50, 5, seed=9)
    other = write_olist_export(tmp_path / "c", 50, 5, seed=10)
    assert first == again
    for name in FILES.values():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / FILES["orders"]).read_bytes() != (tmp_path / "c" / FILES["orders"]).read_bytes()
    assert other["orders"] == 50
    assert sizes(1) == (99_441, 622)
    assert sizes(0.01) == (994, 6)
    with pytest.raises(ValueError, match="share of the full Olist size"):
        sizes(0)


def test_bench_knows_the_new_cases_and_refuses_a_bad_scale(tmp_path: Path):
    assert {"olist", "glue-history"} <= set(benchmark.CASES)
    with pytest.raises(UserError, match="share of the full size"):
        benchmark.run(Settings(root=tmp_path), ["olist"], tmp_path, scale=2)
    with pytest.raises(UserError, match="Unknown benchmark case"):
        benchmark.run(Settings(root=tmp_path), ["olist-full"], tmp_path)
