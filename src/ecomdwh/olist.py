"""The public Olist export mapped into the bronze contract, one landing day per purchase date.

Olist is real and messy, and the mapping says so rather than inventing data:
- timestamps are São Paulo local time; they become UTC;
- an order item is quantity 1 at Olist's `price`, no discount (freight is not part of the line amount);
  its id is `<order_id>-<order_item_id>`;
- payment types map to our methods (credit/debit card -> card, boleto -> bank_transfer,
  voucher -> gift_card); others (`not_defined`) are kept and quarantined by the domain rule;
- a payment has no time of its own: it takes its order's approval (or purchase) time; a payment
  whose order is absent has no time (quarantined, never dropped);
- Olist names no carrier (`olist_logistics`), no list price (a product's price is its earliest sale's
  price, over all its items; a product never sold in the export has none and is quarantined), no
  product names (`<English category> <first 8 characters of the id>`) and no customer names.

Exports as people have them (saved by a spreadsheet, cut, renamed) are read row by row: every
source row is landed, for the Glue jobs to keep or quarantine with the contract's reason, or
skipped with a reason in the file's report. Source rows = landed + skipped, per file.
- timestamps: ISO, `YYYY-MM-DD HH:MM` and the spreadsheet forms `M/D/YYYY H:MM[:SS]` (or day
  first), detected per column; a value in none of them is landed as it is (`bad_timestamp`);
- blank rows are skipped; a repeated key is landed and the Glue jobs apply the contract (exact
  duplicates removed, conflicting rows quarantined); customers are one row per person
  (`customer_unique_id`), later rows of a person are skipped;
- landing day: an order's purchase day; an item's order's purchase day, else its shipping-limit
  day; a payment's order's day, else its items' earliest day; else (no usable date) the export's
  last purchase day, which is also the run date `ecomdwh run` reports on.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
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
# Columns a table cannot do without (also how a renamed file is recognised by its header).
REQUIRED = {
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp"],
    "order_items": ["order_id", "order_item_id", "product_id", "price"],
    "payments": ["order_id", "payment_sequential", "payment_type", "payment_value"],
    "customers": ["customer_id", "customer_unique_id"],
    "products": ["product_id"],
    "categories": ["product_category_name", "product_category_name_english"],
}
# Columns whose absence only leaves their values empty.
OPTIONAL = {
    "orders": ["order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date"],
    "order_items": ["shipping_limit_date"],
    "payments": [],
    "customers": ["customer_city", "customer_state"],
    "products": ["product_category_name"],
    "categories": [],
}
TIMESTAMPS = {"orders": ["order_purchase_timestamp", *OPTIONAL["orders"]], "order_items": ["shipping_limit_date"]}
SOURCE_KEY = {
    "orders": ("order_id",),
    "order_items": ("order_id", "order_item_id"),
    "payments": ("order_id", "payment_sequential"),
    "customers": ("customer_id",),
    "products": ("product_id",),
    "categories": ("product_category_name",),
}
# Without orders there is no purchase date, and without items no sale: nothing worth landing.
ESSENTIAL = ("orders", "order_items")
ORDER_STATUS = {
    "created": "placed", "approved": "paid", "invoiced": "processing", "processing": "processing",
    "shipped": "shipped", "delivered": "delivered", "canceled": "cancelled", "unavailable": "cancelled",
}  # fmt: skip
PAYMENT_METHOD = {"credit_card": "card", "debit_card": "card", "boleto": "bank_transfer", "voucher": "gift_card"}

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?")
_SLASH = re.compile(
    r"(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?"
)
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}")
_DELIMITERS = (",", ";", "\t", "|")


class RawValue(str):
    """A timestamp in no known format: landed as it is, for the Glue job to quarantine."""


@dataclass
class FileReport:
    """What became of one source file's rows: source rows = landed + blank + skipped, always."""

    table: str
    file: str | None  # None: no such file in the folder
    source_rows: int = 0
    blank: int = 0
    landed: int = 0
    key_seen_before: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def accounted(self) -> int:
        return self.landed + self.blank + sum(self.skipped.values())

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass
class _Table:
    rows: list[dict[str, str]]
    report: FileReport


# --- reading ---------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str | None]:
    """The text and, when it was not UTF-8, a note saying how it was read."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "read as UTF-16"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text, note = data.decode("utf-8"), None
    except UnicodeDecodeError:
        try:
            text, note = data.decode("cp1252"), "not UTF-8: read as Windows-1252 (Latin-1)"
        except UnicodeDecodeError:
            text, note = data.decode("latin-1"), "not UTF-8: read as Latin-1"
    if "\x00" in text:  # the csv module refuses NUL bytes; they carry nothing
        text = text.replace("\x00", "")
        note = ", ".join(filter(None, [note, "NUL bytes removed"]))
    return text, note


def _header(text: str, table: str | None) -> tuple[list[str], str]:
    """The first non-blank line's column names (trimmed, lower case) and the delimiter that fits `table`."""
    line = next((x for x in text.splitlines() if x.strip(" ,;\t|\r")), "")
    best: tuple[list[str], str] | None = None
    for delimiter in _DELIMITERS:
        columns = [c.strip().strip('"').strip().lower() for c in next(csv.reader([line], delimiter=delimiter), [])]
        if table is not None and set(REQUIRED[table]) <= set(columns):
            return columns, delimiter
        if best is None or len(columns) > len(best[0]):
            best = (columns, delimiter)
    return best or ([], ",")


def _locate(src: Path) -> tuple[dict[str, Path | None], dict[str, str], list[str]]:
    """Each table's file (renamed ones recognised by their header), notes on renames, unused CSVs."""
    csvs = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() == ".csv" and p.name[0] not in ".~")
    by_name = {p.name.lower(): p for p in csvs}
    found: dict[str, Path | None] = {t: by_name.get(name.lower()) for t, name in FILES.items()}
    notes: dict[str, str] = {}
    taken = {p for p in found.values() if p is not None}
    candidates: dict[str, list[Path]] = defaultdict(list)
    for path in csvs:
        if path in taken:
            continue
        try:
            with path.open("rb") as fh:
                head = _decode(fh.read(65536))[0]  # the header is all it takes
        except OSError:
            continue
        fits = [t for t in FILES if set(REQUIRED[t]) <= set(_header(head, t)[0])]
        # The table it fits most closely: an items file also has a product_id, as products do.
        best = max(fits, key=lambda t: len(REQUIRED[t]), default=None)
        if best is not None and found[best] is None:
            candidates[best].append(path)
    for table, paths in candidates.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise ValueError(
                f"{src} has no {FILES[table]}, and both {names} have its columns; "
                f"rename the one to use to {FILES[table]}"
            )
        found[table] = paths[0]
        notes[table] = f"found as {paths[0].name} (renamed; recognised by its columns)"
    used = {p for p in found.values() if p is not None}
    return found, notes, [p.name for p in csvs if p not in used]


def _read(table: str, path: Path | None, note: str | None) -> _Table:
    report = FileReport(table, path.name if path else None)
    if path is None:
        what = "product categories keep Olist's Portuguese names" if table == "categories" else f"no {table} landed"
        report.notes.append(f"missing (no renamed copy either): {what}")
        return _Table([], report)
    if note:
        report.notes.append(note)
    text, decoded = _decode(path.read_bytes())
    if decoded:
        report.notes.append(decoded)
    columns, delimiter = _header(text, table)
    if delimiter != ",":
        report.notes.append(f"delimiter {delimiter!r}")
    missing = [c for c in REQUIRED[table] if c not in columns]
    if missing:
        has = ", ".join(c for c in columns if c) or "nothing"
        raise ValueError(
            f"{path.name} lacks the Olist column(s) {', '.join(missing)} (its header has {has}); "
            "restore them from the original export"
        )
    absent = [c for c in OPTIONAL[table] if c not in columns]
    if absent:
        report.notes.append(f"column(s) {', '.join(absent)} absent: left empty")
    index = {c: columns.index(c) for c in REQUIRED[table] + OPTIONAL[table] if c in columns}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    header_seen = short = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:  # one unreadable row, not the file
            report.source_rows += 1
            report.skip("unreadable as CSV")
            continue
        blank = not any(v.strip() for v in record)
        if not header_seen:
            header_seen = not blank
            continue
        report.source_rows += 1
        if blank:
            report.blank += 1
            continue
        short += len(record) < len(columns)
        rows.append({c: record[i].strip() if i < len(record) else "" for c, i in index.items()})
    for c in OPTIONAL[table]:
        if c not in index:
            for row in rows:
                row[c] = ""
    if short:
        report.notes.append(f"{short} row(s) with fewer fields than the header: the missing values left empty")
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        key = tuple(row[c] for c in SOURCE_KEY[table])
        if all(key):  # an empty key is no key: the Glue job quarantines each such row as missing_field
            report.key_seen_before += key in seen
            seen.add(key)
    return _Table(rows, report)


# --- timestamps ------------------------------------------------------------------------------------------------


def _slash_parts(value: str) -> tuple[int, int] | None:
    m = _SLASH.fullmatch(value)
    return (int(m[1]), int(m[2])) if m else None


def _examples(values: list[str]) -> str:
    distinct = list(dict.fromkeys(values))[:2]
    return " and ".join(repr(v) for v in distinct)


def _day_first(file: str, table: _Table, day_first: bool | None) -> dict[str, bool]:
    """Per timestamp column: whether its slash dates are day first; refuses a column it cannot tell."""
    if day_first is not None:
        return {c: day_first for c in TIMESTAMPS.get(table.report.table, [])}
    evidence: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for column in TIMESTAMPS.get(table.report.table, []):
        day, month, either = [], [], []
        for row in table.rows:
            parts = _slash_parts(row[column])
            if parts is None:
                continue
            first, second = parts
            (day if first > 12 else month if second > 12 else either).append(row[column])
        evidence[column] = (day, month, either)
    decided: dict[str, bool] = {}
    for column, (day, month, _) in evidence.items():
        if day and month:
            raise ValueError(
                f"{file}: column {column} mixes day-first dates ({_examples(day)}) and month-first dates "
                f"({_examples(month)}); rerun with --day-first or --month-first to say which "
                "(values that do not fit are landed as they are and quarantined as bad_timestamp)"
            )
        if day or month:
            decided[column] = bool(day)
    # A spreadsheet writes every date of a file the same way: a column that cannot tell alone follows the others.
    siblings = set(decided.values())
    for column, (_, _, either) in evidence.items():
        if column in decided or not either:
            continue
        if len(siblings) != 1:
            raise ValueError(
                f"{file}: column {column} has dates such as {_examples(either)} that read as day/month or "
                "month/day alike; rerun with --day-first if they are day/month, or --month-first if month/day"
            )
        decided[column] = next(iter(siblings))
        table.report.notes.append(f"{column}: day/month order taken from the file's other date columns")
    return decided


def _local(value: str, day_first: bool) -> datetime | None:
    """A São Paulo wall-clock time in one of the known forms, or None."""
    m = _ISO.fullmatch(value)
    if m:
        y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    else:
        m = _SLASH.fullmatch(value)
        if not m:
            return None
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        d, mo = (a, b) if day_first else (b, a)
        y += (2000 if y < 70 else 1900) if len(m[3]) == 2 else 0
        h, mi, s = (int(x) if x else 0 for x in (m[4], m[5], m[6]))
        if m[7]:
            if not 1 <= h <= 12:
                return None
            h = h % 12 + (12 if m[7].lower() == "pm" else 0)
    if not 1970 <= y < 2100:  # outside the contract's range: not a date to land a row on
        return None
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def _parse_column(table: _Table, column: str, day_first: bool) -> None:
    """Replace the column's text with UTC datetimes, None for empty, RawValue for unparseable."""
    bad: list[str] = []
    forms: Counter[str] = Counter()
    for row in table.rows:
        value = row[column]
        if not value:
            row[column] = None
            continue
        local = _local(value, day_first)
        if local is None:
            bad.append(value)
            row[column] = RawValue(value)
            continue
        forms["ISO" if _ISO.fullmatch(value) else "D/M/YYYY" if day_first else "M/D/YYYY"] += 1
        row[column] = local.replace(tzinfo=SAO_PAULO).astimezone(UTC)
    if set(forms) - {"ISO"}:
        table.report.notes.append(f"{column}: {', '.join(sorted(forms))}")
    if bad:
        table.report.notes.append(
            f"{column}: {len(bad)} value(s) in no known form (e.g. {_examples(bad)}), landed as they are "
            "for the Glue job to quarantine as bad_timestamp"
        )


def _when(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value) if value else None  # a RawValue, or None


def _money(value: str) -> str:
    # A spreadsheet in a comma-decimal locale writes 58,9 for 58.90.
    return value.replace(",", ".") if _DECIMAL_COMMA.fullmatch(value) else value


def _day(ts: datetime | None) -> str | None:
    return ts.date().isoformat() if ts else None


# --- the mapping -----------------------------------------------------------------------------------------------


def convert_olist(src: Path, out: Path, day_first: bool | None = None) -> dict:
    """Write the export under `out` in the bronze layout.

    Returns rows written per entity, a FileReport per source table (`files`), the landing days and the
    export's last purchase day. `day_first` settles slash dates a column cannot tell (None: detect).
    Raises ValueError, with the file and what to do, for what cannot be landed row by row.
    """
    if src.is_file() and src.suffix.lower() == ".zip":
        raise ValueError(f"{src} is a zip archive; unzip it and pass the folder holding the Olist CSVs")
    if not src.is_dir():
        raise ValueError(f"{src} is not a folder; pass the folder holding the Olist CSVs ({', '.join(FILES.values())})")
    found, renamed, unused = _locate(src)
    absent = [FILES[t] for t in ESSENTIAL if found[t] is None]
    if absent:
        raise ValueError(
            f"{src / absent[0]} is missing{' (and ' + ', '.join(absent[1:]) + ')' if absent[1:] else ''}: "
            f"an Olist export folder holds {', '.join(FILES.values())}; put the missing file(s) there"
        )
    tables = {t: _read(t, found[t], renamed.get(t)) for t in FILES}
    for name, table in tables.items():
        if table.report.file is None:
            continue
        orientation = _day_first(table.report.file, table, day_first)
        for column in TIMESTAMPS.get(name, []):
            _parse_column(table, column, orientation.get(column, False))
    reports = {t: table.report for t, table in tables.items()}
    orders, items = tables["orders"].rows, tables["order_items"].rows
    payments, customers = tables["payments"].rows, tables["customers"].rows
    products = tables["products"].rows

    english: dict[str, str] = {}
    for row in tables["categories"].rows:
        english.setdefault(row["product_category_name"], row["product_category_name_english"])
    reports["categories"].landed = len(tables["categories"].rows)
    reports["categories"].notes.append("a lookup (English category names), landed as the products' categories")

    # The first row of an order id gives its date: later rows of the id are landed for the Glue job to judge.
    purchased: dict[str, datetime] = {}
    for o in orders:
        ts = _when(o["order_purchase_timestamp"])
        if ts and o["order_id"]:
            purchased.setdefault(o["order_id"], ts)
    item_ts = [purchased.get(i["order_id"]) or _when(i["shipping_limit_date"]) for i in items]
    purchase_days = sorted({_day(ts) for ts in purchased.values()})
    dated = sorted({_day(ts) for ts in item_ts if ts} | set(purchase_days))
    if not dated:
        raise ValueError(
            f"no row of {reports['orders'].file} or {reports['order_items'].file} has a date in a known form; "
            "check that the export's timestamp columns hold dates"
        )
    # The run date and the fallback landing day: the last purchase, which no stray date elsewhere can move.
    last_day = purchase_days[-1] if purchase_days else dated[-1]
    # Customers and products with no sale in the export are there from the first purchase day on.
    baseline = datetime.fromisoformat(purchase_days[0] if purchase_days else dated[0]).replace(tzinfo=UTC)
    out_rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))

    unique_of: dict[str, str] = {}
    for c in customers:
        if c["customer_id"] and c["customer_unique_id"]:
            unique_of.setdefault(c["customer_id"], c["customer_unique_id"])
    first_purchase: dict[str, datetime] = {}
    for o in orders:
        oid, ts = o["order_id"], _when(o["order_purchase_timestamp"])
        day = _day(ts) or last_day
        times = [o[k] for k in TIMESTAMPS["orders"]]
        known = [t for t in times if isinstance(t, datetime)]
        out_rows["orders"][day].append({
            "order_id": oid,
            "customer_id": unique_of.get(o["customer_id"], o["customer_id"]),
            "order_ts": _iso(o["order_purchase_timestamp"]),
            "status": ORDER_STATUS.get(o["order_status"], o["order_status"]),
            "channel": "marketplace",
            "updated_at": _iso(max(known)) if known else _iso(o["order_purchase_timestamp"]),
        })  # fmt: skip
        customer = unique_of.get(o["customer_id"])
        if customer and ts and (customer not in first_purchase or ts < first_purchase[customer]):
            first_purchase[customer] = ts
        approved = _paid(o)
        for status, when in (("pending", approved), ("shipped", o["order_delivered_carrier_date"]),
                             ("delivered", o["order_delivered_customer_date"])):  # fmt: skip
            if when:
                out_rows["shipment_events"][day].append({
                    "shipment_id": oid, "order_id": oid, "carrier": "olist_logistics",
                    "status": status, "status_ts": _iso(when),
                })  # fmt: skip
    reports["orders"].landed = len(orders)

    first_sale: dict[str, tuple[datetime, str]] = {}
    order_item_day: dict[str, str] = {}
    for item, ts in zip(items, item_ts, strict=True):
        day = _day(ts) or last_day
        whole_key = item["order_id"] and item["order_item_id"]
        out_rows["order_items"][day].append({
            "order_item_id": f"{item['order_id']}-{item['order_item_id']}" if whole_key else None,
            "order_id": item["order_id"],
            "product_id": item["product_id"],
            "quantity": 1,
            "unit_price": _money(item["price"]),
            "discount_amount": "0.00",
        })  # fmt: skip
        if item["order_id"] and (item["order_id"] not in order_item_day or day < order_item_day[item["order_id"]]):
            order_item_day[item["order_id"]] = day
        price, pid = _money(item["price"]), item["product_id"]
        if pid and price and (pid not in first_sale or (ts or baseline) < first_sale[pid][0]):
            first_sale[pid] = (ts or baseline, price)
    reports["order_items"].landed = len(items)

    orders_by_id: dict[str, dict] = {}
    for o in orders:
        orders_by_id.setdefault(o["order_id"], o)
    for p in payments:
        order = orders_by_id.get(p["order_id"]) if p["order_id"] else None
        paid = _paid(order) if order else None
        # With its order's purchase day, else with its order's items, else on the last purchase day.
        day = _day(purchased.get(p["order_id"])) or order_item_day.get(p["order_id"]) or last_day
        whole_key = p["order_id"] and p["payment_sequential"]
        out_rows["payments"][day].append({
            "payment_id": f"{p['order_id']}-{p['payment_sequential']}" if whole_key else None,
            "order_id": p["order_id"],
            "payment_method": PAYMENT_METHOD.get(p["payment_type"], p["payment_type"]),
            "amount": _money(p["payment_value"]),
            "status": "captured",
            "paid_at": _iso(paid),
        })  # fmt: skip
    reports["payments"].landed = len(payments)

    landed_customers: set[str] = set()
    for c in customers:
        cid = c["customer_unique_id"]
        if cid and cid in landed_customers:
            reports["customers"].skip("another row of a customer already landed (same customer_unique_id)")
            continue
        landed_customers.add(cid)
        since = first_purchase.get(cid, baseline)
        out_rows["customers"][since.date().isoformat()].append({
            "customer_id": cid, "email": None, "first_name": None, "last_name": None,
            "city": c["customer_city"], "state": c["customer_state"], "country": "BR", "segment": "consumer",
            "signup_date": since.date().isoformat(), "updated_at": _iso(since),
        })  # fmt: skip
        reports["customers"].landed += 1

    for p in products:
        pid = p["product_id"]
        sold_at, price = first_sale.get(pid, (baseline, None))
        category = english.get(p["product_category_name"], p["product_category_name"]) or None
        out_rows["products"][sold_at.date().isoformat()].append({
            "product_id": pid, "sku": pid, "product_name": _product_name(category, pid),
            "category": category, "brand": None, "unit_price": price, "updated_at": _iso(sold_at),
        })  # fmt: skip
    reports["products"].landed = len(products)

    written: dict[str, int] = {}
    for name, by_day in out_rows.items():
        entity = ENTITIES[name]
        for day, rows in sorted(by_day.items()):
            file_name = f"olist-{name}-{day.replace('-', '')}.{entity.format}"
            text = (
                csv_text(entity.column_names, [[r[c] for c in entity.column_names] for r in rows])
                if entity.format == "csv"
                else jsonl_text(rows)
            )
            write_landing_file(out, entity, day, file_name, text)
            written[name] = written.get(name, 0) + len(rows)
    landed = sorted({day for by_day in out_rows.values() for day, rows in by_day.items() if rows})
    return {
        "rows": dict(sorted(written.items())),
        "source_rows": {t: r.source_rows for t, r in reports.items()},
        "files": list(reports.values()),
        "unused_files": unused,
        "days": landed,
        "last_purchase_day": last_day,
    }


def _paid(order: dict) -> object:
    """An order's approval time, else its purchase time; a value in no known form only when neither parsed."""
    approved, purchased = order["order_approved_at"], order["order_purchase_timestamp"]
    return _when(approved) or _when(purchased) or approved or purchased


def _product_name(category: str | None, product_id: str) -> str | None:
    """Olist has no product names: the English category and a short id, e.g. `health beauty 1e9e8ef0`."""
    if not product_id:
        return None
    return f"{(category or 'uncategorised').replace('_', ' ')} {product_id[:8]}"
