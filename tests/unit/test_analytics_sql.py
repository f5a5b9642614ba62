"""The analytics queries on a hand-made gold schema (in-memory DuckDB) whose answers are worked out below,
and every query parsed as Redshift SQL: known functions only, nothing engine-specific."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest
import sqlglot
from matplotlib.figure import Figure
from sqlglot import exp

from ecomdwh import analytics, charts

FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 3, 31)
SHIPMENT_STATUSES = [  # status, name, stage_order, is_final
    ("pending", "Pending", 1, False),
    ("shipped", "Shipped", 2, False),
    ("in_transit", "In transit", 3, False),
    ("delivered", "Delivered", 4, True),
    ("returned", "Returned", 5, True),
    ("lost", "Lost", 6, True),
]

# Seven orders, eight items. C1 changed segment (consumer -> vip) on 2026-02-10; O6 and O7 point at
# unknown members (O7 even at the unknown date). Keys: customer c1a/c1b/c2/c3, product p1..p3.
#   order  day         customer  payment  shipment   items: (product, quantity, unit_price, discount) -> total
#   O1     2026-01-05  c1a       card     delivered  P1 2x10.00 -> 20.00 ; P2 1x5.50-0.50 -> 5.00
#   O2     2026-01-20  c2        paypal   delivered  P3 1x30.00 -> 30.00
#   O3     2026-02-15  c1b       card     shipped    P1 1x10.00 -> 10.00
#   O4     2026-03-02  c2        bank     lost       P2 4x5.00-2.00 -> 18.00
#   O5     2026-03-03  c3        card     pending    P1 1x10.00 -> 10.00
#   O6     2026-03-04  -1        -1       -1         P3 2x7.25 -> 14.50
#   O7     (unknown)   -1        -1       -1         P2 1x3.00 -> 3.00
FACTS = [
    ("I1", "O1", date(2026, 1, 5), "c1a", "p1", "pm_card", "delivered", 2, "10.00", "0.00"),
    ("I2", "O1", date(2026, 1, 5), "c1a", "p2", "pm_card", "delivered", 1, "5.50", "0.50"),
    ("I3", "O2", date(2026, 1, 20), "c2", "p3", "pm_paypal", "delivered", 1, "30.00", "0.00"),
    ("I4", "O3", date(2026, 2, 15), "c1b", "p1", "pm_card", "shipped", 1, "10.00", "0.00"),
    ("I5", "O4", date(2026, 3, 2), "c2", "p2", "pm_bank", "lost", 4, "5.00", "2.00"),
    ("I6", "O5", date(2026, 3, 3), "c3", "p1", "pm_card", "pending", 1, "10.00", "0.00"),
    ("I7", "O6", date(2026, 3, 4), "-1", "p3", "-1", None, 2, "7.25", "0.00"),
    ("I8", "O7", None, "-1", "p2", "-1", None, 1, "3.00", "0.00"),
]


def date_row(day: date) -> tuple:
    day_of_week = (day.weekday() + 1) % 7  # as extract(dow): 0 is Sunday
    quarter = (day.month - 1) // 3 + 1
    week = day.isocalendar().week
    return (
        analytics.date_key(day),
        day,
        f"{day:%Y-%m}",
        day.year,
        quarter,
        day.month,
        week,
        day_of_week,
        day_of_week in (0, 6),
    )


def fact_row(item, order, day, customer, product, method, status, quantity, price, discount) -> tuple:
    ordered_at = datetime(day.year, day.month, day.day, 12) if day else None
    total = f"{quantity * float(price) - float(discount):.2f}"
    date_key = analytics.date_key(day) if day else -1
    return (
        item,
        order,
        date_key,
        customer,
        product,
        method,
        status or "-1",
        ordered_at,
        quantity,
        price,
        discount,
        total,
    )


def build_gold(run) -> None:
    """Create the gold tables and rows through `run(sql, rows=None)`: plain SQL, '?' placeholders."""
    run("create schema gold")
    run("""create table gold.dim_date (date_key integer, date_day date, year_month varchar(7), year integer,
        quarter integer, month integer, week integer, day_of_week integer, is_weekend boolean)""")
    days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    unknown_day = (-1, None, "unknown", None, None, None, None, None, None)
    run("insert into gold.dim_date values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [date_row(d) for d in days] + [unknown_day])
    run("""create table gold.dim_customers (customer_key varchar(32), customer_id varchar(32), segment varchar(32),
        country varchar(2), signup_date date, valid_from timestamp, valid_to timestamp, is_current boolean)""")
    run(
        "insert into gold.dim_customers values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("c1a", "C1", "consumer", "PT", date(2025, 6, 1), "2025-06-01", "2026-02-10", False),
            ("c1b", "C1", "vip", "ES", date(2025, 6, 1), "2026-02-10", "9999-12-31", True),
            ("c2", "C2", "corporate", "DE", date(2025, 7, 1), "2025-07-01", "9999-12-31", True),
            ("c3", "C3", "consumer", "FR", date(2026, 3, 1), "2026-03-01", "9999-12-31", True),
            ("-1", "-1", "unknown", None, None, "1900-01-01", "9999-12-31", True),
        ],
    )
    run("""create table gold.dim_products (product_key varchar(32), product_id varchar(32), sku varchar(32),
        product_name varchar(64), category varchar(32), brand varchar(32), list_price decimal(18, 2),
        valid_from timestamp, valid_to timestamp, is_current boolean)""")
    run(
        "insert into gold.dim_products values (?, ?, ?, ?, ?, ?, ?, '1900-01-01', '9999-12-31', true)",
        [
            ("p1", "P1", "S1", "Mug", "home", "Acme", "10.00"),
            ("p2", "P2", "S2", "Lamp", "toys", "Lumo", "5.00"),
            ("p3", "P3", "S3", "Book", "books", "Vela", "30.00"),
            ("-1", "-1", None, "unknown", "unknown", None, None),
        ],
    )
    run("""create table gold.dim_payment_methods (payment_method_key varchar(32), payment_method varchar(32),
        payment_method_name varchar(32), is_deferred boolean)""")
    run(
        "insert into gold.dim_payment_methods values (?, ?, ?, ?)",
        [
            ("pm_card", "card", "Card", False),
            ("pm_paypal", "paypal", "PayPal", False),
            ("pm_bank", "bank_transfer", "Bank transfer", True),
            ("pm_gift", "gift_card", "Gift card", False),
            ("-1", "unknown", "Unknown", None),
        ],
    )
    run("""create table gold.dim_shipment_status (shipment_status_key varchar(32), shipment_status varchar(32),
        shipment_status_name varchar(32), stage_order integer, is_final boolean)""")
    run(
        "insert into gold.dim_shipment_status values (?, ?, ?, ?, ?)",
        [(s, s, n, o, f) for s, n, o, f in SHIPMENT_STATUSES] + [("-1", "unknown", "Unknown", 0, None)],
    )
    run("""create table gold.fact_order_items (order_item_id varchar(32), order_id varchar(32),
        order_date_key integer, customer_key varchar(32), product_key varchar(32), payment_method_key varchar(32),
        shipment_status_key varchar(32), ordered_at timestamp, quantity integer, unit_price decimal(18, 2),
        discount_amount decimal(18, 2), total_amount decimal(18, 2), source_loaded_at timestamp)""")
    run(
        "insert into gold.fact_order_items values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-03-05')",
        [fact_row(*fact) for fact in FACTS],
    )
    run("create schema data_quality")
    run("""create table data_quality.unknown_member_counts as
        select cast('dim_customers' as varchar(32)) as dimension, 2 as fact_rows, 8 as total_fact_rows""")


def duckdb_runner(connection):
    def run(sql: str, rows=None) -> None:
        if rows is None:
            connection.execute(sql)
        else:
            connection.executemany(sql, rows)

    return run


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    build_gold(duckdb_runner(connection))
    yield connection
    connection.close()


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in row)
        for row in frame[columns].itertuples(index=False, name=None)
    ]


# --- the numbers --------------------------------------------------------------------------------------------------


def test_monthly_revenue_trend_is_the_dbt_analysis(con):
    trend = analytics.monthly_revenue_trend(con)
    assert list(trend.columns) == ["year_month", "revenue", "orders", "items"]
    assert records(trend, list(trend.columns)) == [
        ("2026-01", 55.0, 2, 4),
        ("2026-02", 10.0, 1, 1),
        ("2026-03", 42.5, 3, 7),
        ("unknown", 3.0, 1, 1),
    ]


def test_the_date_range_limits_every_query_and_leaves_out_unknown_dates(con):
    trend = analytics.monthly_revenue_trend(con, "2026-01-10", "2026-03-02")
    assert records(trend, ["year_month", "revenue", "orders"]) == [
        ("2026-01", 30.0, 1),
        ("2026-02", 10.0, 1),
        ("2026-03", 18.0, 1),
    ]
    assert analytics.headline(con, end_date="2026-01-31").loc[0, "revenue"] == 55.0  # O7 (date -1) is out
    assert analytics.headline(con, start_date="2026-03-01").loc[0, "revenue"] == 42.5
    assert analytics.top_products(con, "2026-03-03", "2026-03-03")["product_id"].tolist() == ["P1"]


def test_top_products_is_the_dbt_analysis(con):
    top = analytics.top_products(con)
    assert records(top, ["product_id", "product_name", "category", "revenue", "units_sold"]) == [
        ("P3", "Book", "books", 44.5, 3),
        ("P1", "Mug", "home", 40.0, 4),
        ("P2", "Lamp", "toys", 26.0, 6),
    ]


def test_headline_and_daily_revenue(con):
    head = analytics.headline(con).iloc[0]
    assert (head["revenue"], head["orders"], head["items"], head["order_items"], head["customers"]) == (
        110.5,
        7,
        13,
        8,
        3,
    )
    daily = analytics.daily_revenue(con)
    assert len(daily) == 6 and daily["revenue"].sum() == 107.5  # O7's day is unknown


def test_customer_lifetime_value_uses_every_version_and_the_current_segment(con):
    clv = analytics.customer_lifetime_value(con)
    assert records(clv, ["customer_id", "segment", "orders", "items", "revenue", "average_order_value"]) == [
        ("C2", "corporate", 2, 5, 48.0, 24.0),
        ("C1", "vip", 2, 4, 35.0, 17.5),
        ("C3", "consumer", 1, 1, 10.0, 10.0),
    ]
    first = clv.set_index("customer_id").loc["C1"]
    assert (first["first_ordered_at"], first["last_ordered_at"]) == (
        pd.Timestamp("2026-01-05 12:00"),
        pd.Timestamp("2026-02-15 12:00"),
    )

    segments = analytics.clv_by_segment(con)
    assert records(segments, ["segment", "customers", "orders", "revenue", "revenue_per_customer", "repeat_share"]) == [
        ("corporate", 1, 2, 48.0, 48.0, 1.0),
        ("vip", 1, 2, 35.0, 35.0, 1.0),
        ("consumer", 1, 1, 10.0, 10.0, 0.0),
    ]


def test_cohort_retention_by_month(con):
    cohorts = analytics.cohort_retention(con, period="month")
    # January: C1 (again in February) and C2 (again in March); March: C3.
    assert records(
        cohorts, ["cohort_start", "periods_since_first", "cohort_customers", "active_customers", "retention"]
    ) == [
        (date(2026, 1, 1), 0, 2, 2, 1.0),
        (date(2026, 1, 1), 1, 2, 1, 0.5),
        (date(2026, 1, 1), 2, 2, 1, 0.5),
        (date(2026, 3, 1), 0, 1, 1, 1.0),
    ]
    matrix = analytics.retention_matrix(cohorts)
    assert matrix.loc["2026-01-01"].tolist() == [1.0, 0.5, 0.5]


def test_cohort_retention_by_monday_week(con):
    cohorts = analytics.cohort_retention(con, period="week")
    # C1: weeks of 01-05 and 02-09 (5 weeks later); C2: 01-19 and 03-02 (6 weeks); C3: 03-02 (a Tuesday's week).
    assert records(cohorts, ["cohort_start", "periods_since_first", "active_customers", "retention"]) == [
        (date(2026, 1, 5), 0, 1, 1.0),
        (date(2026, 1, 5), 5, 1, 1.0),
        (date(2026, 1, 19), 0, 1, 1.0),
        (date(2026, 1, 19), 6, 1, 1.0),
        (date(2026, 3, 2), 0, 1, 1.0),
    ]
    assert analytics.cohort_period("2026-01-05", "2026-03-04") == "month"
    assert analytics.cohort_period("2026-03-01", "2026-03-14") == "week"
    with pytest.raises(ValueError, match="period"):
        analytics.cohort_retention(con, period="day")


def test_category_mix(con):
    mix = analytics.category_mix(con)
    assert records(mix, ["year_month", "category", "revenue", "units", "share_of_revenue"]) == [
        ("2026-01", "books", 30.0, 1, round(30 / 55, 6)),
        ("2026-01", "home", 20.0, 2, round(20 / 55, 6)),
        ("2026-01", "toys", 5.0, 1, round(5 / 55, 6)),
        ("2026-02", "home", 10.0, 1, 1.0),
        ("2026-03", "toys", 18.0, 4, round(18 / 42.5, 6)),
        ("2026-03", "books", 14.5, 2, round(14.5 / 42.5, 6)),
        ("2026-03", "home", 10.0, 1, round(10 / 42.5, 6)),
        ("unknown", "toys", 3.0, 1, 1.0),
    ]


def test_payment_method_mix(con):
    methods = analytics.payment_method_mix(con)
    assert records(
        methods, ["payment_method", "orders", "revenue", "average_order_value", "share_of_orders", "share_of_revenue"]
    ) == [
        ("card", 3, 45.0, 15.0, round(3 / 7, 6), round(45 / 110.5, 6)),
        ("paypal", 1, 30.0, 30.0, round(1 / 7, 6), round(30 / 110.5, 6)),
        ("bank_transfer", 1, 18.0, 18.0, round(1 / 7, 6), round(18 / 110.5, 6)),
        ("unknown", 2, 17.5, 8.75, round(2 / 7, 6), round(17.5 / 110.5, 6)),
    ]


def test_shipment_sla_status_mix(con):
    statuses = analytics.shipment_sla(con)
    assert records(
        statuses,
        [
            "shipment_status",
            "is_final",
            "is_delivered",
            "order_items",
            "orders",
            "revenue",
            "share_of_items",
            "share_of_orders",
        ],
    ) == [
        ("unknown", False, False, 2, 2, 17.5, 0.25, round(2 / 7, 6)),
        ("pending", False, False, 1, 1, 10.0, 0.125, round(1 / 7, 6)),
        ("shipped", False, False, 1, 1, 10.0, 0.125, round(1 / 7, 6)),
        ("delivered", True, True, 3, 2, 55.0, 0.375, round(2 / 7, 6)),
        ("lost", True, False, 1, 1, 18.0, 0.125, round(1 / 7, 6)),
    ]


def test_open_shipments_by_age_counts_back_from_the_newest_order(con):
    backlog = analytics.open_shipments_by_age(con, sla_days=5)
    # Newest order 2026-03-04 (O6). O7 has no date and no age.
    assert records(
        backlog, ["age_days", "orders", "delivered_orders", "closed_undelivered_orders", "open_orders", "past_sla"]
    ) == [
        (0, 1, 0, 0, 1, False),
        (1, 1, 0, 0, 1, False),
        (2, 1, 0, 1, 0, False),
        (17, 1, 0, 0, 1, True),
        (43, 1, 1, 0, 0, True),
        (58, 1, 1, 0, 0, True),
    ]


def test_exploring_gold(con):
    counts = dict(records(analytics.gold_row_counts(con), ["table_name", "row_count"]))
    assert counts["fact_order_items"] == 8 and counts["dim_date"] == (LAST_DAY - FIRST_DAY).days + 2
    assert set(counts) == set(analytics.GOLD_TABLES)
    assert len(analytics.sample_rows(con, "dim_customers", 2)) == 2
    assert analytics.sample_rows(con, "unknown_member_counts").iloc[0]["fact_rows"] == 2  # data_quality's
    with pytest.raises(ValueError, match="not a gold or data-quality table"):
        analytics.sample_rows(con, "silver.orders")
    joined = analytics.example_join(con, 3)
    assert joined["order_item_id"].tolist() == ["I7", "I6", "I5"]  # newest first; I8 has no order time


def test_summary_and_its_file(con, tmp_path):
    values = analytics.summary(con, target="local")
    assert values | {"sla_days": None} == {
        "target": "local",
        "start_date": None,
        "end_date": None,
        "revenue": 110.5,
        "orders": 7,
        "items": 13,
        "order_items": 8,
        "customers": 3,
        "months": ["2026-01", "2026-02", "2026-03", "unknown"],
        "top_product_ids": ["P3", "P1", "P2"],
        "open_orders_past_sla": 1,
        "sla_days": None,
    }
    assert analytics.write_summary(None, values) is None
    path = analytics.write_summary(tmp_path / "report", values)
    assert path.name == "summary.json" and json.loads(path.read_text()) == values
    empty = analytics.summary(con, "2030-01-01", "2030-12-31")
    assert (empty["revenue"], empty["orders"], empty["top_product_ids"], empty["open_orders_past_sla"]) == (
        0.0,
        0,
        [],
        0,
    )


# --- the charts draw, also on an empty range -----------------------------------------------------------------------


@pytest.mark.parametrize("start", [None, "2030-01-01"])
def test_every_chart_draws(con, start):
    frames = {
        name: getattr(analytics, name)(con, start)
        for name in (
            "monthly_revenue_trend",
            "daily_revenue",
            "top_products",
            "customer_lifetime_value",
            "clv_by_segment",
            "category_mix",
            "payment_method_mix",
            "shipment_sla",
            "open_shipments_by_age",
        )
    }
    matrix = analytics.retention_matrix(analytics.cohort_retention(con, start, period="week"))
    figures = [
        charts.revenue_trend(frames["monthly_revenue_trend"], frames["daily_revenue"]),
        charts.top_products(frames["top_products"]),
        charts.customer_value(frames["customer_lifetime_value"], frames["clv_by_segment"]),
        charts.cohort_heatmap(matrix, "week"),
        charts.category_mix(frames["category_mix"]),
        charts.payment_methods(frames["payment_method_mix"]),
        charts.shipment_status(frames["shipment_sla"]),
        charts.open_shipments(frames["open_shipments_by_age"], 5),
    ]
    for figure in figures:
        assert isinstance(figure, Figure) and figure.get_suptitle()
        assert charts.png(figure).startswith(b"\x89PNG")
    assert "1,234.50" in charts.table(pd.DataFrame({"revenue": [1234.5]})).to_html()
    assert "12.5%" in charts.table(pd.DataFrame({"share_of_orders": [0.125]})).to_html()
    assert charts.money(623551.47) == "623.6k" and charts.money(1_250_000) == "1.25M"


# --- portable SQL ------------------------------------------------------------------------------------------------

# What the queries may call: functions sqlglot knows that PostgreSQL, Redshift and DuckDB all have.
PORTABLE_FUNCTIONS = {"And", "Or", "Sum", "Count", "Min", "Max", "Cast", "Coalesce", "RowNumber", "Case", "If"}


def every_query() -> dict[str, str]:
    queries = {f"analyses/{name}": analytics.analysis_sql(name) for name in ("monthly_revenue_trend", "top_products")}
    queries |= analytics.ANALYSES
    queries["gold_row_counts"] = "\nunion all\n".join(
        f"select count(*) from {{{{ ref('{t}') }}}}" for t in analytics.GOLD_TABLES
    )
    return queries


@pytest.mark.parametrize("name", sorted(every_query()))
@pytest.mark.parametrize("date_range", [(None, None), ("2026-01-01", "2026-03-31")])
def test_every_query_parses_as_redshift_with_known_functions_only(name, date_range):
    sql = analytics.render(every_query()[name], *date_range)
    tree = sqlglot.parse_one(sql, read="redshift")
    anonymous = [f.sql("redshift") for f in tree.find_all(exp.Anonymous)]
    assert not anonymous, f"{name} calls functions sqlglot does not know: {anonymous}"
    functions = {type(f).__name__ for f in tree.find_all(exp.Func)}
    assert functions <= PORTABLE_FUNCTIONS, f"{name} uses {functions - PORTABLE_FUNCTIONS}"
    assert "{{" not in sql and "gold." in sql
    sqlglot.parse_one(sql, read="postgres")


def test_render_replaces_refs_and_refuses_other_jinja():
    assert analytics.render("select * from {{ ref('dim_date') }}") == "select * from gold.dim_date"
    assert analytics.render('from {{ ref("fact_order_items") }} f', "2026-03-01", "2026-03-14") == (
        "from (select * from gold.fact_order_items where order_date_key between 20260301 and 20260314) f"
    )
    with pytest.raises(ValueError, match="Jinja"):
        analytics.render("select {{ var('x') }}")
    with pytest.raises(ValueError):
        analytics.render("select 1 from {{ ref('fact_order_items') }}", "2026-02-30")
