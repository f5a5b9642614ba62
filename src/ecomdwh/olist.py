"""The public Olist export mapped into the bronze contract, one landing day per purchase date.

Olist is real and messy, and the mapping says so rather than inventing data:
- timestamps are São Paulo local time; they become UTC;
- an order item is quantity 1 at Olist's `price`, no discount (freight is not part of the line amount);
  its id is `<order_id>-<order_item_id>`;
- payment types map to our methods (credit/debit card -> card, boleto -> bank_transfer,
  voucher -> gift_card); others (`not_defined`) are kept and quarantined by the domain rule;
- a payment has no time of its own: it takes its order's approval (or purchase) time, and a
  payment whose order is absent lands on the last day with no time (quarantined, never dropped);
- items whose order is absent land on their shipping-limit date, the only date they carry;
- Olist names no carrier (`olist_logistics`), no list price (a product's price is its first sale's
  price; a product never sold in the export has none and is quarantined), and no customer names.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ecomdwh.bronze_files import csv_text, jsonl_text, write_landing_file
from ecomdwh.contract import ENTITIES

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
UTC = ZoneInfo("UTC")
FILES = {
    "orders": "olist_orders_dataset.csv",
    "order_items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "products": "olist_products_dataset.csv",
    "categories": "product_category_name_translation.csv",
}
REQUIRED = {
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
               "order_delivered_carrier_date", "order_delivered_customer_date"],
    "order_items": ["order_id", "order_item_id", "product_id", "shipping_limit_date", "price"],
    "payments": ["order_id", "payment_sequential", "payment_type", "payment_value"],
    "customers": ["customer_id", "customer_unique_id", "customer_city", "customer_state"],
    "products": ["product_id", "product_category_name"],
    "categories": ["product_category_name", "product_category_name_english"],
}  # fmt: skip
ORDER_STATUS = {
    "created": "placed", "approved": "paid", "invoiced": "processing", "processing": "processing",
    "shipped": "shipped", "delivered": "delivered", "canceled": "cancelled", "unavailable": "cancelled",
}  # fmt: skip
PAYMENT_METHOD = {"credit_card": "card", "debit_card": "card", "boleto": "bank_transfer", "voucher": "gift_card"}


def _read(src: Path, name: str) -> list[dict[str, str]]:
    path = src / FILES[name]
    if not path.exists():
        raise ValueError(f"{path} is missing: an Olist export folder holds {', '.join(FILES.values())}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    missing = [c for c in REQUIRED[name] if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"{path.name} lacks the Olist column(s) {', '.join(missing)}")
    return rows


def _utc(local: str) -> datetime | None:
    if not local.strip():
        return None
    return datetime.fromisoformat(local.strip()).replace(tzinfo=SAO_PAULO).astimezone(UTC)


def _iso(ts: datetime | None) -> str | None:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def convert_olist(src: Path, out: Path) -> dict:
    """Write the export under `out` in the bronze layout; returns rows written per entity and the landing days."""
    orders = {r["order_id"]: r for r in _read(src, "orders")}
    items = _read(src, "order_items")
    payments = _read(src, "payments")
    customers = _read(src, "customers")
    products = _read(src, "products")
    english = {r["product_category_name"]: r["product_category_name_english"] for r in _read(src, "categories")}

    purchased = {oid: _utc(o["order_purchase_timestamp"]) for oid, o in orders.items()}
    item_day = [(purchased.get(i["order_id"]) or _utc(i["shipping_limit_date"])).date().isoformat() for i in items]
    days = sorted({ts.date().isoformat() for ts in purchased.values() if ts} | set(item_day))
    first_day, last_day = days[0], days[-1]
    baseline = datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    out_rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))

    unique_of = {c["customer_id"]: c["customer_unique_id"] for c in customers}
    first_purchase: dict[str, datetime] = {}
    for oid, o in sorted(orders.items()):
        ts = purchased[oid]
        known = [ts, *(_utc(o[k]) for k in REQUIRED["orders"][4:])]
        out_rows["orders"][ts.date().isoformat()].append({
            "order_id": oid,
            "customer_id": unique_of.get(o["customer_id"], o["customer_id"]),
            "order_ts": _iso(ts),
            "status": ORDER_STATUS.get(o["order_status"], o["order_status"]),
            "channel": "marketplace",
            "updated_at": _iso(max(t for t in known if t)),
        })  # fmt: skip
        customer = unique_of.get(o["customer_id"])
        if customer and (customer not in first_purchase or ts < first_purchase[customer]):
            first_purchase[customer] = ts
        approved = _utc(o["order_approved_at"]) or ts
        for status, when in (("pending", approved), ("shipped", _utc(o["order_delivered_carrier_date"])),
                             ("delivered", _utc(o["order_delivered_customer_date"]))):  # fmt: skip
            if when:
                out_rows["shipment_events"][ts.date().isoformat()].append({
                    "shipment_id": oid, "order_id": oid, "carrier": "olist_logistics",
                    "status": status, "status_ts": _iso(when),
                })  # fmt: skip

    first_sale: dict[str, tuple[datetime, str]] = {}
    for item, day in zip(items, item_day, strict=True):
        out_rows["order_items"][day].append({
            "order_item_id": f"{item['order_id']}-{item['order_item_id']}",
            "order_id": item["order_id"],
            "product_id": item["product_id"],
            "quantity": 1,
            "unit_price": item["price"],
            "discount_amount": "0.00",
        })  # fmt: skip
        sold = purchased.get(item["order_id"])
        if sold and (item["product_id"] not in first_sale or sold < first_sale[item["product_id"]][0]):
            first_sale[item["product_id"]] = (sold, item["price"])

    for p in payments:
        order = orders.get(p["order_id"])
        paid = (_utc(order["order_approved_at"]) or purchased[p["order_id"]]) if order else None
        # A payment lands with its order (one landing day per purchase date).
        day = purchased[p["order_id"]].date().isoformat() if order else last_day
        out_rows["payments"][day].append({
            "payment_id": f"{p['order_id']}-{p['payment_sequential']}",
            "order_id": p["order_id"],
            "payment_method": PAYMENT_METHOD.get(p["payment_type"], p["payment_type"]),
            "amount": p["payment_value"],
            "status": "captured",
            "paid_at": _iso(paid),
        })  # fmt: skip
    seen_customers: set[str] = set()
    for c in customers:
        cid = c["customer_unique_id"]
        if cid in seen_customers:
            continue
        seen_customers.add(cid)
        since = first_purchase.get(cid, baseline)
        out_rows["customers"][since.date().isoformat()].append({
            "customer_id": cid, "email": None, "first_name": None, "last_name": None,
            "city": c["customer_city"], "state": c["customer_state"], "country": "BR", "segment": "consumer",
            "signup_date": since.date().isoformat(), "updated_at": _iso(since),
        })  # fmt: skip
    for p in products:
        sold_at, price = first_sale.get(p["product_id"], (baseline, None))
        category = p["product_category_name"]
        out_rows["products"][sold_at.date().isoformat()].append({
            "product_id": p["product_id"], "sku": p["product_id"], "product_name": None,
            "category": english.get(category, category) or None, "brand": None,
            "unit_price": price, "updated_at": _iso(sold_at),
        })  # fmt: skip

    written: dict[str, int] = {}
    for name, by_day in out_rows.items():
        entity = ENTITIES[name]
        for day, rows in sorted(by_day.items()):
            if not rows:
                continue
            file_name = f"olist-{name}-{day.replace('-', '')}.{entity.format}"
            text = (
                csv_text(entity.column_names, [[r[c] for c in entity.column_names] for r in rows])
                if entity.format == "csv"
                else jsonl_text(rows)
            )
            write_landing_file(out, entity, day, file_name, text)
            written[name] = written.get(name, 0) + len(rows)
    landed = sorted({day for by_day in out_rows.values() for day, rows in by_day.items() if rows})
    sources = {"orders": len(orders), "order_items": len(items), "payments": len(payments),
               "customers": len(customers), "products": len(products)}  # fmt: skip
    return {"rows": dict(sorted(written.items())), "source_rows": sources, "days": landed}
