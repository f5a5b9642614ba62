"""The Olist adapter on the real public sample: counts per entity, money, mapping, layout, determinism."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ecomdwh.bronze_files import read_landing_text
from ecomdwh.contract import DOMAINS, ENTITIES, entity_for_path
from ecomdwh.olist import FILES, convert_olist

OLIST = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "olist_sample"
pytestmark = pytest.mark.skipif(not OLIST.is_dir(), reason="the Olist sample lives in shared/, beside the project")


def source(name: str) -> list[dict[str, str]]:
    with (OLIST / FILES[name]).open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, dict, dict[str, list[dict]]]:
    out = tmp_path_factory.mktemp("olist")
    summary = convert_olist(OLIST, out)
    rows: dict[str, list[dict]] = {name: [] for name in ENTITIES}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out)
        entity = entity_for_path(*rel.parts[:2])
        assert entity is not None and rel.parts[2].startswith("ingest_date=") and path.name.endswith(entity.extensions)
        text = read_landing_text(path)
        if entity.format == "csv":
            assert text.splitlines()[0].split(",") == entity.column_names
            rows[entity.name] += list(csv.DictReader(text.splitlines()))
        else:
            for line in text.splitlines():
                record = json.loads(line)
                assert list(record) == entity.column_names
                rows[entity.name].append(record)
    return out, summary, rows


def test_every_source_row_lands_once(converted):
    _, summary, rows = converted
    assert len(rows["order_items"]) == len(source("order_items")) == 5154
    assert len(rows["orders"]) == len(source("orders"))
    assert len(rows["payments"]) == len(source("payments"))
    assert len(rows["products"]) == len(source("products"))
    assert len(rows["customers"]) == len({c["customer_unique_id"] for c in source("customers")})
    timestamps = ("order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date")
    events = sum(1 for o in source("orders") if (o["order_approved_at"] or o["order_purchase_timestamp"]))
    events += sum(1 for o in source("orders") for k in timestamps[1:] if o[k])
    assert len(rows["shipment_events"]) == events
    assert summary["rows"] == {name: len(r) for name, r in rows.items()}


def test_money_is_exact_and_mapping_follows_the_contract(converted):
    _, _, rows = converted
    assert sum(Decimal(r["unit_price"]) for r in rows["order_items"]) == Decimal("641586.22")
    assert all(r["quantity"] == 1 and r["discount_amount"] == "0.00" for r in rows["order_items"])
    first = source("order_items")[0]
    assert f"{first['order_id']}-{first['order_item_id']}" in {r["order_item_id"] for r in rows["order_items"]}
    methods = {r["payment_method"] for r in rows["payments"]}
    assert {"card", "bank_transfer"} <= methods
    assert methods - set(DOMAINS["payment_method"]) <= {"not_defined"}  # unknown types kept, for quarantine
    assert {r["status"] for r in rows["orders"]} <= {
        "placed",
        "paid",
        "processing",
        "shipped",
        "delivered",
        "cancelled",
    }


def test_timestamps_are_utc_and_each_order_lands_on_its_purchase_day(converted):
    out, _, rows = converted
    for order in rows["orders"]:
        assert order["order_ts"].endswith("Z") and len(order["order_ts"]) == 20
    sample = next(o for o in source("orders") if o["order_id"] == rows["orders"][0]["order_id"])
    local = sample["order_purchase_timestamp"]  # São Paulo time: 3 hours behind UTC after 2019, 2-3 before
    assert rows["orders"][0]["order_ts"][11:13] != local[11:13]
    day = rows["orders"][0]["order_ts"][:10]
    assert (out / "shop" / "orders" / f"ingest_date={day}").is_dir()


def test_same_export_same_bytes(converted, tmp_path: Path):
    out, _, _ = converted
    convert_olist(OLIST, tmp_path)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (tmp_path / f).read_bytes() for f in files)


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="olist_orders_dataset.csv is missing"):
        convert_olist(tmp_path, tmp_path / "out")
