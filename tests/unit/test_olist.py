"""The Olist adapter: the real public sample, and damaged copies of it as spreadsheets and people leave them.

No Spark here: what the Glue jobs and gold make of a damaged copy is tests/integration/test_olist_pipeline.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ecomdwh import landing, pipeline
from ecomdwh.bronze_files import read_landing_text
from ecomdwh.contract import DOMAINS, ENTITIES, entity_for_path
from ecomdwh.devtools import emulator
from ecomdwh.olist import FILES, convert_olist
from tests.conftest import scratch_env

OLIST = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "olist_sample"
pytestmark = pytest.mark.skipif(not OLIST.is_dir(), reason="the Olist sample lives in shared/, beside the project")
PRODUCT_NAME = re.compile(r"^[a-z0-9 ]+ [0-9a-f]{8}$")


def source(name: str, folder: Path = OLIST) -> list[dict[str, str]]:
    with (folder / FILES[name]).open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def bronze(out: Path) -> dict[str, list[dict]]:
    """Every landed row per entity, checking the layout and the header of each file."""
    rows: dict[str, list[dict]] = {name: [] for name in ENTITIES}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out)
        entity = entity_for_path(*rel.parts[:2])
        assert entity is not None and rel.parts[2].startswith("ingest_date=") and path.name.endswith(entity.extensions)
        text = read_landing_text(path)
        day = rel.parts[2].removeprefix("ingest_date=")
        if entity.format == "csv":
            assert text.splitlines()[0].split(",") == entity.column_names
            rows[entity.name] += [{**r, "_day": day} for r in csv.DictReader(text.splitlines())]
        else:
            for line in text.splitlines():
                record = json.loads(line)
                assert list(record) == entity.column_names
                rows[entity.name].append({**record, "_day": day})
    return rows


# --- damaged copies ---------------------------------------------------------------------------------------------

_ISO_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):\d{2}$")


def spreadsheet_time(value: str) -> str:
    """How a spreadsheet saves `2017-10-02 10:56:33`: `10/2/2017 10:56` (no seconds, no leading zeros)."""
    m = _ISO_LOCAL.match(value)
    return f"{int(m[2])}/{int(m[3])}/{m[1]} {int(m[4])}:{m[5]}" if m else value


def write_table(path: Path, rows: list[dict[str, str]], *, header: list[str] | None = None, blank: int = 0,
                crlf: bool = True, bom: bool = False, encoding: str = "utf-8") -> None:  # fmt: skip
    """A CSV as a spreadsheet saves it: CRLF, optional BOM, `,,,,` rows where a longer table's rows were."""
    header = header or list(rows[0])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows([r.get(c, "") for c in header] for r in rows)
    writer.writerows([[""] * len(header)] * blank)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode(encoding))


BLANK = 4  # trailing blank rows in every damaged table


def damaged_copy(dst: Path) -> Path:
    """The sample as an analyst might have it: spreadsheet timestamps, CRLF, BOMs, trailing blank rows in every
    table, an empty key, duplicated keys (one exact, one conflicting), orders and payments cut short, a Latin-1 file,
    the products file renamed and the category translations missing."""
    dst.mkdir(parents=True)
    stamp = ("order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
             "order_delivered_customer_date", "order_estimated_delivery_date", "shipping_limit_date")  # fmt: skip

    def sheet(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{k: spreadsheet_time(v) if k in stamp else v for k, v in r.items()} for r in rows]

    orders = sheet(source("orders")[:3000])  # cut short
    orders[7]["order_id"] = ""  # an empty key
    orders.append(dict(orders[11]))  # an exact duplicate
    write_table(dst / FILES["orders"], orders, blank=BLANK)
    items = sheet(source("order_items"))
    items[3]["order_item_id"] = ""
    items.append(dict(items[20]))
    write_table(dst / FILES["order_items"], items, blank=BLANK, bom=True)
    payments = source("payments")[:2500]  # cut short too, apart from the orders
    kept = {o["order_id"] for o in orders if o["order_id"]}
    paid = next(p for p in payments if p["order_id"] in kept)  # its order is there: only the key conflicts
    payments.append({**paid, "payment_value": "1.00"})  # same key, other content
    write_table(dst / FILES["payments"], payments, blank=BLANK)
    customers = source("customers")
    customers[0]["customer_city"] = "são paulo"
    write_table(dst / FILES["customers"], customers, blank=BLANK, encoding="latin-1")
    write_table(dst / "products.csv", source("products"), blank=BLANK, bom=True)  # renamed
    return dst


def data_rows(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """A file's rows after the header, counted apart from the adapter: the source rows."""
    with path.open(newline="", encoding=encoding) as fh:
        return list(csv.reader(fh))[1:]


# --- the clean sample -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, dict, dict[str, list[dict]]]:
    out = tmp_path_factory.mktemp("olist")
    summary = convert_olist(OLIST, out)
    return out, summary, bronze(out)


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
    for report in summary["files"]:
        assert report.source_rows == report.accounted == len(source(report.table)), report
        assert report.blank == report.key_seen_before == 0 and not report.skipped
    assert summary["unused_files"] == ["olist_order_reviews_dataset.csv", "olist_sellers_dataset.csv"]


def test_money_is_exact_and_mapping_follows_the_contract(converted):
    _, _, rows = converted
    assert sum(Decimal(r["unit_price"]) for r in rows["order_items"]) == Decimal("641586.22")
    assert all(r["quantity"] == 1 and r["discount_amount"] == "0.00" for r in rows["order_items"])
    first = source("order_items")[0]
    assert f"{first['order_id']}-{first['order_item_id']}" in {r["order_item_id"] for r in rows["order_items"]}
    methods = {r["payment_method"] for r in rows["payments"]}
    assert {"card", "bank_transfer"} <= methods
    assert methods - set(DOMAINS["payment_method"]) <= {"not_defined"}  # unknown types kept, for quarantine
    assert {r["status"] for r in rows["orders"]} <= set(DOMAINS["order_status"])


def test_timestamps_are_utc_and_each_order_lands_on_its_purchase_day(converted):
    out, _, rows = converted
    for order in rows["orders"]:
        assert order["order_ts"].endswith("Z") and len(order["order_ts"]) == 20
        assert order["_day"] == order["order_ts"][:10]
    sample = next(o for o in source("orders") if o["order_id"] == rows["orders"][0]["order_id"])
    local = sample["order_purchase_timestamp"]  # São Paulo time: 3 hours behind UTC after 2019, 2-3 before
    assert rows["orders"][0]["order_ts"][11:13] != local[11:13]


def test_products_have_readable_names_and_a_price_from_any_of_their_sales(converted):
    _, _, rows = converted
    english = {r["product_category_name"]: r["product_category_name_english"] for r in source("categories")}
    by_id = {p["product_id"]: p for p in rows["products"]}
    for product in source("products"):
        category = english.get(product["product_category_name"], product["product_category_name"]) or None
        name = (category or "uncategorised").replace("_", " ") + " " + product["product_id"][:8]
        assert by_id[product["product_id"]]["product_name"] == name
        assert PRODUCT_NAME.match(name)
    # Priced from every sale, not only from items whose order is in the export (5 of 77 sold products).
    sold = {i["product_id"] for i in source("order_items")}
    priced = {p["product_id"] for p in rows["products"] if p["unit_price"]}
    assert priced == sold & set(by_id) and len(priced) == 77


def test_payments_of_absent_orders_land_with_their_items_or_on_the_last_purchase_day(converted):
    _, summary, rows = converted
    orders = {o["order_id"] for o in source("orders")}
    item_days: dict[str, str] = {}
    for item in rows["order_items"]:
        item_days[item["order_id"]] = min(item["_day"], item_days.get(item["order_id"], item["_day"]))
    order_days = {o["order_id"]: o["_day"] for o in rows["orders"]}
    last_purchase = max(o["order_ts"][:10] for o in rows["orders"])
    assert summary["last_purchase_day"] == last_purchase == "2018-09-20"
    fallbacks = 0
    for payment in rows["payments"]:
        oid = payment["order_id"]
        if oid in orders:
            assert payment["_day"] == order_days[oid] and payment["paid_at"]
        elif oid in item_days:
            assert payment["_day"] == item_days[oid] and payment["paid_at"] is None
        else:
            assert payment["_day"] == last_purchase
            fallbacks += 1
    known = orders | set(item_days)
    assert fallbacks == sum(1 for p in source("payments") if p["order_id"] not in known)


def test_same_export_same_bytes(converted, tmp_path: Path):
    out, _, _ = converted
    convert_olist(OLIST, tmp_path)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (tmp_path / f).read_bytes() for f in files)


# --- a damaged copy ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> tuple[Path, dict, dict[str, list[dict]]]:
    folder = damaged_copy(tmp_path_factory.mktemp("damaged") / "export")
    out = tmp_path_factory.mktemp("damaged-bronze")
    summary = convert_olist(folder, out)
    return folder, summary, bronze(out)


def test_damaged_copy_every_source_row_is_landed_or_skipped_with_a_reason(damaged):
    folder, summary, rows = damaged
    reports = {r.table: r for r in summary["files"]}
    encodings = {"customers": "latin-1"}
    files = {**FILES, "products": "products.csv"}
    for table, report in reports.items():
        if table == "categories":
            assert report.file is None and report.source_rows == report.landed == 0
            assert any("missing" in n for n in report.notes)
            continue
        assert report.file == files[table]
        rows_in_file = data_rows(folder / files[table], encodings.get(table, "utf-8-sig"))
        assert report.source_rows == len(rows_in_file) == report.accounted, table
        assert report.blank == BLANK == sum(1 for r in rows_in_file if not any(r)), table
        assert report.landed == report.source_rows - BLANK - sum(report.skipped.values())
    assert {t: reports[t].key_seen_before for t in ("orders", "order_items", "payments")} == {
        "orders": 1,
        "order_items": 1,
        "payments": 1,
    }
    assert any("renamed" in n for n in reports["products"].notes)
    assert any("Windows-1252" in n or "Latin-1" in n for n in reports["customers"].notes)
    assert any("M/D/YYYY" in n for n in reports["orders"].notes)
    # What the reports say landed is what is in bronze.
    for table in ("orders", "order_items", "payments", "products", "customers"):
        assert len(rows[table]) == reports[table].landed == summary["rows"][table], table
    assert "são paulo" in {c["city"] for c in rows["customers"]}


def test_damaged_copy_lands_empty_keys_for_quarantine_and_keeps_real_times(damaged):
    _, summary, rows = damaged
    assert sum(1 for o in rows["orders"] if o["order_id"] == "") == 1
    assert sum(1 for i in rows["order_items"] if i["order_item_id"] is None) == 1  # never "-1" or "<order>-"
    clean = {o["order_id"]: o for o in source("orders")}
    some = next(o for o in rows["orders"] if o["order_id"])
    expected = convert_local(clean[some["order_id"]]["order_purchase_timestamp"])
    assert some["order_ts"] == expected[:17] + "00Z"  # the spreadsheet kept minutes, not seconds
    last_purchase = max(
        convert_local(clean[o["order_id"]]["order_purchase_timestamp"]) for o in rows["orders"] if o["order_id"]
    )
    assert summary["last_purchase_day"] == last_purchase[:10]


def convert_local(value: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo("America/Sao_Paulo"))
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- small hand-made exports ------------------------------------------------------------------------------------

HEADERS = {name: list(source(name)[0]) for name in FILES}


def tiny_export(folder: Path, **tables: list[dict[str, str]]) -> Path:
    """An export with the given rows (other columns empty); a table not given is written with no rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, file in FILES.items():
        rows = tables.get(name, [])
        write_table(folder / file, rows, header=HEADERS[name], crlf=False)
    return folder


def order(oid: str, purchased: str, **more: str) -> dict[str, str]:
    return {"order_id": oid, "customer_id": f"c{oid}", "order_status": "delivered",
            "order_purchase_timestamp": purchased, **more}  # fmt: skip


def item(oid: str, n: str, product: str, limit: str, price: str = "10.00") -> dict[str, str]:
    return {"order_id": oid, "order_item_id": n, "product_id": product, "shipping_limit_date": limit, "price": price}


def test_an_ambiguous_day_month_column_is_refused_with_what_settles_it(tmp_path: Path):
    src = tiny_export(tmp_path / "x", orders=[order("a", "3/4/2018 10:00"), order("b", "5/6/2018 11:30")])
    with pytest.raises(ValueError) as refused:
        convert_olist(src, tmp_path / "out")
    message = str(refused.value)
    for part in ("olist_orders_dataset.csv", "order_purchase_timestamp", "'3/4/2018 10:00'", "'5/6/2018 11:30'",
                 "--day-first"):  # fmt: skip
        assert part in message
    summary = convert_olist(src, tmp_path / "day-first", day_first=True)
    assert summary["last_purchase_day"] == "2018-06-05"
    assert convert_olist(src, tmp_path / "month-first", day_first=False)["last_purchase_day"] == "2018-05-06"


def test_day_month_order_is_detected_per_column_and_shared_within_a_file(tmp_path: Path):
    src = tiny_export(
        tmp_path / "x",
        # purchase dates alone cannot tell; the approval column (25/4) says day first
        orders=[order("a", "3/4/2018 10:00", order_approved_at="25/4/2018 9:00"), order("b", "5/4/2018 11:30")],
        order_items=[item("a", "1", "p1", "2018-04-30 10:00:00")],
    )
    summary = convert_olist(src, tmp_path / "out")
    rows = bronze(tmp_path / "out")
    assert sorted(o["order_ts"] for o in rows["orders"]) == ["2018-04-03T13:00:00Z", "2018-04-05T14:30:00Z"]
    orders = next(r for r in summary["files"] if r.table == "orders")
    assert any("taken from the file's other date columns" in n for n in orders.notes)


def test_a_column_mixing_day_and_month_first_is_refused_and_settled_by_the_option(tmp_path: Path):
    src = tiny_export(tmp_path / "x", orders=[order("a", "25/4/2018 10:00"), order("b", "4/25/2018 11:30")])
    with pytest.raises(ValueError, match="mixes day-first dates .*'25/4/2018 10:00'.*'4/25/2018 11:30'"):
        convert_olist(src, tmp_path / "out")
    convert_olist(src, tmp_path / "out", day_first=True)
    ts = {o["order_id"]: o["order_ts"] for o in bronze(tmp_path / "out")["orders"]}
    assert ts == {"a": "2018-04-25T13:00:00Z", "b": "4/25/2018 11:30"}  # landed raw: Glue says bad_timestamp


def test_spreadsheet_and_iso_forms_and_unparseable_values(tmp_path: Path):
    src = tiny_export(
        tmp_path / "x",
        orders=[
            order("a", "2018-04-03 10:00:59"),
            order("b", "2018-04-03 10:00"),
            order("c", "4/13/2018 10:00:59"),
            order("d", "4/13/2018 10:00 PM"),
            order("g", "4/13/18 9:05"),
            order("e", "yesterday"),
            order("f", "2350-01-01 00:00:00"),  # outside the contract's range: no landing day of its own
        ],
        order_items=[item("e", "1", "p1", "2018-05-01 00:00:00")],
    )
    summary = convert_olist(src, tmp_path / "out")
    rows = bronze(tmp_path / "out")
    by_id = {o["order_id"]: o for o in rows["orders"]}
    assert {k: v["order_ts"] for k, v in by_id.items()} == {
        "a": "2018-04-03T13:00:59Z", "b": "2018-04-03T13:00:00Z", "c": "2018-04-13T13:00:59Z",
        "d": "2018-04-14T01:00:00Z", "e": "yesterday", "f": "2350-01-01 00:00:00", "g": "2018-04-13T12:05:00Z",
    }  # fmt: skip
    assert summary["last_purchase_day"] == "2018-04-14"
    assert by_id["e"]["_day"] == by_id["f"]["_day"] == "2018-04-14"  # the fallback: the last purchase day
    assert rows["order_items"][0]["_day"] == "2018-05-01"  # its order has no date: its own shipping limit
    notes = next(r for r in summary["files"] if r.table == "orders").notes
    assert any("2 value(s) in no known form" in n and "bad_timestamp" in n for n in notes)


def test_rows_of_absent_orders_keep_their_own_dates_and_an_outlier_moves_nothing(tmp_path: Path):
    src = tiny_export(
        tmp_path / "x",
        orders=[order("a", "2018-04-03 10:00:00"), order("b", "2018-04-20 10:00:00")],
        order_items=[
            item("a", "1", "p1", "2018-04-10 10:00:00", "12.50"),
            item("gone", "1", "p1", "2018-03-01 10:00:00", "11.00"),  # its order was cut: priced from it anyway
            item("gone", "2", "p2", "2018-03-02 10:00:00", "7,5"),  # a comma-decimal spreadsheet
            item("late", "1", "p3", "2020-02-01 10:00:00", "5.00"),  # an outlier shipping limit
        ],
        payments=[
            {"order_id": "a", "payment_sequential": "1", "payment_type": "boleto", "payment_value": "12.50"},
            {"order_id": "gone", "payment_sequential": "1", "payment_type": "voucher", "payment_value": "18.50"},
            {"order_id": "nowhere", "payment_sequential": "1", "payment_type": "credit_card", "payment_value": "3"},
        ],
        products=[{"product_id": p, "product_category_name": "beleza_saude"} for p in ("p1", "p2", "p4")],
        categories=[{"product_category_name": "beleza_saude", "product_category_name_english": "health_beauty"}],
    )
    summary = convert_olist(src, tmp_path / "out")
    rows = bronze(tmp_path / "out")
    assert summary["last_purchase_day"] == "2018-04-20"  # not 2020-02-01
    days = {p["order_id"]: p["_day"] for p in rows["payments"]}
    assert days == {"a": "2018-04-03", "gone": "2018-03-01", "nowhere": "2018-04-20"}
    assert {i["order_item_id"]: i["_day"] for i in rows["order_items"]}["late-1"] == "2020-02-01"
    products = {p["product_id"]: p for p in rows["products"]}
    assert {k: p["unit_price"] for k, p in products.items()} == {"p1": "11.00", "p2": "7.5", "p4": ""}
    assert products["p1"]["updated_at"] == "2018-03-01T13:00:00Z"  # its earliest sale, before order a's
    assert products["p1"]["product_name"] == "health beauty p1"


def test_missing_and_renamed_files_and_columns(tmp_path: Path):
    src = tiny_export(tmp_path / "x", orders=[order("a", "2018-04-03 10:00:00")])
    (src / FILES["customers"]).unlink()
    (src / FILES["products"]).rename(src / "olist_products_dataset (1).csv")
    summary = convert_olist(src, tmp_path / "out")
    reports = {r.table: r for r in summary["files"]}
    assert reports["customers"].file is None and "missing" in reports["customers"].notes[0]
    assert reports["products"].file == "olist_products_dataset (1).csv"

    shutil.copy(src / "olist_products_dataset (1).csv", src / "products copy.csv")
    with pytest.raises(ValueError, match="rename the one to use to olist_products_dataset.csv"):
        convert_olist(src, tmp_path / "out2")

    (src / "products copy.csv").unlink()
    (src / FILES["order_items"]).unlink()
    with pytest.raises(ValueError, match="olist_order_items_dataset.csv is missing.*put the missing file"):
        convert_olist(src, tmp_path / "out3")


def test_a_missing_column_names_the_file_and_an_optional_one_is_left_empty(tmp_path: Path):
    src = tiny_export(tmp_path / "x", orders=[order("a", "2018-04-03 10:00:00")])
    header = [c for c in HEADERS["orders"] if c != "order_approved_at"]
    write_table(src / FILES["orders"], [order("a", "2018-04-03 10:00:00")], header=header)
    summary = convert_olist(src, tmp_path / "out")
    assert any("order_approved_at absent" in n for n in summary["files"][0].notes)
    header = [c for c in HEADERS["orders"] if c != "order_status"]
    write_table(src / FILES["orders"], [order("a", "2018-04-03 10:00:00")], header=header)
    with pytest.raises(ValueError, match="olist_orders_dataset.csv lacks the Olist column.s. order_status"):
        convert_olist(src, tmp_path / "out2")


def test_semicolon_utf16_and_nul_bytes_are_read(tmp_path: Path):
    src = tiny_export(tmp_path / "x", orders=[order("a", "2018-04-03 10:00:00")], order_items=[item("a", "1", "p", "")])
    text = (src / FILES["orders"]).read_text().replace(",", ";")
    (src / FILES["orders"]).write_bytes(text.encode("utf-16"))
    (src / FILES["order_items"]).write_bytes((src / FILES["order_items"]).read_bytes().replace(b"p,", b"p\x00,"))
    summary = convert_olist(src, tmp_path / "out")
    assert summary["rows"]["orders"] == summary["rows"]["order_items"] == 1
    notes = summary["files"][0].notes
    assert "read as UTF-16" in notes and "delimiter ';'" in notes


def test_a_folder_that_is_not_an_export_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="olist_orders_dataset.csv is missing"):
        convert_olist(tmp_path, tmp_path / "out")
    with pytest.raises(ValueError, match="not a folder"):
        convert_olist(tmp_path / "nope", tmp_path / "out")


# --- the command line, in process, no emulator --------------------------------------------------------------


@pytest.fixture
def cli_main(tmp_path: Path, cli_in_process):
    return cli_in_process(scratch_env(tmp_path, "olist-cli"))


def test_run_on_an_olist_export_lands_it_alone_and_reports_on_its_last_purchase_day(
    cli_main, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    seen: dict = {}

    def land(ctx: pipeline.RunContext) -> pipeline.StepOutcome:
        files = landing.plan(ctx.source_dir)
        ctx.days = landing.landing_days(files)
        seen.update(files={f.key for f in files}, run_date=pipeline.run_date(ctx), last_day=ctx.days[-1])
        return pipeline.StepOutcome("ok", "planned")

    monkeypatch.setattr(emulator, "ensure", lambda settings: "no emulator needed")
    monkeypatch.setattr(pipeline, "STEPS", [("land", land)])
    src = tiny_export(
        tmp_path / "x",
        orders=[order("a", "4/13/2018 10:00")],
        order_items=[item("a", "1", "p", "4/20/2018 10:00"), item("cut", "1", "p", "9/30/2019 10:00")],
    )
    code, output = cli_main("run", "--source", f"olist:{src}")
    assert code == 0, output
    assert seen["run_date"] == "2018-04-13" and seen["last_day"] == "2019-09-30"
    assert all(key.split("/")[-1].startswith("olist-") for key in seen["files"])  # no synthetic sample mixed in
    for line in ("olist_orders_dataset.csv", "last purchase day 2018-04-13", "order_purchase_timestamp: M/D/YYYY"):
        assert line in output, output

    code, output = cli_main("run", "--source", f"olist:{tmp_path / 'empty'}")
    assert code == 1 and "is not a folder" in output and "Traceback" not in output
    code, output = cli_main("run", "--day-first")
    assert code == 2 and "apply to an Olist source" in output


def test_converted_olist_fits_the_landing_rules(converted):
    out, _, _ = converted
    assert len(landing.landing_days(landing.plan(out))) > 500
