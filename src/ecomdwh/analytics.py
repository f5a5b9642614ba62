"""Analytics on gold: each function reads one model of dbt's `reporting` folder and returns a pandas DataFrame.

    from ecomdwh import analytics, warehouse
    con = warehouse.connect(read_only=True)
    analytics.monthly_revenue_trend(con, start_date="2026-03-01", end_date="2026-03-31")

The measures are dbt models (dbt/models/reporting, schema `reporting`): tested there, built on every
target, compiled for Redshift. Most have one row per order day (and customer, product, status, ...), so an
optional order-date range (`start_date`, `end_date`, inclusive, 'YYYY-MM-DD') is a filter on `order_date`
with the dates bound as parameters, and what is left here is the sum over the range's rows. Items whose
order date is unknown (no order_date) count when no range is given and fall outside any range.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ecomdwh.warehouse.connection import read_sql

GOLD_SCHEMA = "gold"
GOLD_TABLES = (
    "fact_order_items",
    "dim_customers",
    "dim_products",
    "dim_date",
    "dim_payment_methods",
    "dim_shipment_status",
)
# dbt's models/data_quality: checks of gold, in their own schema (dbt_project.yml), not part of the star schema.
DATA_QUALITY_SCHEMA = "data_quality"
DATA_QUALITY_TABLES = ("unknown_member_counts",)
# dbt's models/reporting: what the functions below read.
REPORTING_SCHEMA = "reporting"
REPORTING_MODELS = (
    "rpt_daily_revenue",
    "rpt_customer_days",
    "rpt_product_days",
    "rpt_category_days",
    "rpt_payment_method_days",
    "rpt_shipment_status_days",
    "rpt_cohort_activity",
    "rpt_order_item_details",
)
DEFAULT_SLA_DAYS = 5  # orders older than this should have reached a final shipment status
PERIODS = ("month", "week")  # rpt_cohort_activity's period kinds

# The order-date range, four bound dates (start, start, end, end): a missing bound leaves its side open,
# and a null order_date (unknown day) is in no range.
IN_RANGE = (
    "(cast(? as date) is null or order_date >= cast(? as date))"
    " and (cast(? as date) is null or order_date <= cast(? as date))"
)


# --- running a query -------------------------------------------------------------------------------------------


def day(value: str | date | None) -> date | None:
    """A range bound as a date; a string must be YYYY-MM-DD (a bad one raises ValueError)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def date_range(start_date=None, end_date=None) -> list[date | None]:
    """IN_RANGE's parameters."""
    start, end = day(start_date), day(end_date)
    return [start, start, end, end]


def query(con, sql: str, params=()) -> pd.DataFrame:
    """Run `sql` with its `?` placeholders bound to `params` (DuckDB's style; PostgreSQL's and Redshift's
    drivers take `%s`). Exact decimals become numbers pandas and matplotlib can use: money a float, a whole
    number (PostgreSQL's sum of a count is numeric) an integer."""
    if type(con).__module__.split(".")[0] in ("psycopg2", "redshift_connector"):
        sql = sql.replace("?", "%s")
    return plain_numbers(read_sql(con, sql, list(params)))


def plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of exact decimals as numbers pandas and matplotlib can use: whole numbers Int64, others float."""
    for column in frame.columns:
        values = frame[column].dropna()
        if not len(values) or not values.map(lambda v: isinstance(v, Decimal)).all():
            continue
        if values.map(lambda v: v.as_tuple().exponent >= 0).all():
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else int(v)).astype("Int64")
        else:
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else float(v)).astype("float64")
    return frame


# --- headline and revenue --------------------------------------------------------------------------------------

HEADLINE_SQL = f"""
select
    sum(revenue) as revenue,
    coalesce(cast(sum(orders) as bigint), 0) as orders,
    cast(sum(items) as bigint) as items,
    coalesce(cast(sum(order_items) as bigint), 0) as order_items,
    count(distinct case when customer_id <> '-1' then customer_id end) as customers,
    min(first_ordered_at) as first_ordered_at,
    max(last_ordered_at) as last_ordered_at
from reporting.rpt_customer_days
where {IN_RANGE}
"""

DAILY_REVENUE_SQL = f"""
select
    order_date as date_day,
    revenue,
    orders,
    items
from reporting.rpt_daily_revenue
where order_date is not null and {IN_RANGE}
order by order_date
"""

MONTHLY_REVENUE_TREND_SQL = f"""
select
    year_month,
    sum(revenue) as revenue,
    cast(sum(orders) as bigint) as orders,
    cast(sum(items) as bigint) as items
from reporting.rpt_daily_revenue
where {IN_RANGE}
group by year_month
order by year_month
"""

# A product is named as each of its versions was when ordered: a renamed product can appear once per name.
TOP_PRODUCTS_SQL = f"""
select
    product_id,
    product_name,
    category,
    sum(revenue) as revenue,
    cast(sum(units_sold) as bigint) as units_sold
from reporting.rpt_product_days
where {IN_RANGE}
group by product_id, product_name, category
order by revenue desc, product_id asc
limit 10
"""


def headline(con, start_date=None, end_date=None) -> pd.DataFrame:
    """One row: revenue, orders, items, order items, customers, first and last order time."""
    return query(con, HEADLINE_SQL, date_range(start_date, end_date))


def daily_revenue(con, start_date=None, end_date=None) -> pd.DataFrame:
    """date_day, revenue, orders, items per order day (the monthly trend's finer grain)."""
    return query(con, DAILY_REVENUE_SQL, date_range(start_date, end_date))


def monthly_revenue_trend(con, start_date=None, end_date=None) -> pd.DataFrame:
    """year_month, revenue, orders, items per calendar month of the order date ('unknown' for unknown days)."""
    return query(con, MONTHLY_REVENUE_TREND_SQL, date_range(start_date, end_date))


def top_products(con, start_date=None, end_date=None) -> pd.DataFrame:
    """The ten products with the most revenue: product_id, product_name, category, revenue, units_sold."""
    return query(con, TOP_PRODUCTS_SQL, date_range(start_date, end_date))


# --- customers ---------------------------------------------------------------------------------------------------

# Per customer over the range: rpt_customer_days spans the customer's versions and carries its current
# segment and country. The unknown member is no customer and is left out.
_PER_CUSTOMER = f"""
with customers as (
    select
        customer_id,
        segment,
        country,
        signup_date,
        cast(sum(orders) as bigint) as orders,
        cast(sum(items) as bigint) as items,
        sum(revenue) as revenue,
        min(first_ordered_at) as first_ordered_at,
        max(last_ordered_at) as last_ordered_at
    from reporting.rpt_customer_days
    where customer_id <> '-1' and {IN_RANGE}
    group by customer_id, segment, country, signup_date
)
"""

CUSTOMER_LIFETIME_VALUE_SQL = (
    _PER_CUSTOMER
    + """
select
    customer_id,
    segment,
    country,
    signup_date,
    orders,
    items,
    revenue,
    cast(revenue as double precision) / orders as average_order_value,
    first_ordered_at,
    last_ordered_at
from customers
order by revenue desc, customer_id
"""
)

CLV_BY_SEGMENT_SQL = (
    _PER_CUSTOMER
    + """
select
    segment,
    count(*) as customers,
    sum(orders) as orders,
    sum(revenue) as revenue,
    cast(sum(revenue) as double precision) / count(*) as revenue_per_customer,
    cast(sum(orders) as double precision) / count(*) as orders_per_customer,
    cast(sum(revenue) as double precision) / sum(orders) as average_order_value,
    cast(sum(case when orders > 1 then 1 else 0 end) as double precision) / count(*) as repeat_share
from customers
group by segment
order by revenue desc, segment
"""
)


def customer_lifetime_value(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per customer (current segment and country): orders, items, revenue, average order value, first/last order."""
    return query(con, CUSTOMER_LIFETIME_VALUE_SQL, date_range(start_date, end_date))


def clv_by_segment(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per current segment: customers, orders, revenue, revenue and orders per customer, repeat-buyer share."""
    return query(con, CLV_BY_SEGMENT_SQL, date_range(start_date, end_date))


# --- cohorts -----------------------------------------------------------------------------------------------------

# A cohort is the period of a customer's first order within the range, so it is found here, from the
# range's rows of rpt_cohort_activity; period numbers count periods, their difference the periods between.
COHORT_RETENTION_SQL = f"""
with activity as (
    select distinct
        customer_id,
        period_start,
        period_number
    from reporting.rpt_cohort_activity
    where cohort_period = ? and {IN_RANGE}
),

cohorts as (
    select
        customer_id,
        min(period_number) as cohort_number,
        min(period_start) as cohort_start
    from activity
    group by customer_id
),

cohort_sizes as (
    select cohort_number, count(*) as cohort_customers
    from cohorts
    group by cohort_number
),

active as (
    select
        co.cohort_number,
        co.cohort_start,
        a.period_number,
        count(*) as active_customers
    from activity as a
    inner join cohorts as co on a.customer_id = co.customer_id
    group by co.cohort_number, co.cohort_start, a.period_number
)

select
    a.cohort_start,
    cast(a.period_number - a.cohort_number as integer) as periods_since_first,
    s.cohort_customers,
    a.active_customers,
    cast(a.active_customers as double precision) / s.cohort_customers as retention
from active as a
inner join cohort_sizes as s on a.cohort_number = s.cohort_number
order by a.cohort_start, periods_since_first
"""


def cohort_retention(con, start_date=None, end_date=None, period: str = "month") -> pd.DataFrame:
    """Cohort = the period (month or Monday-started week) of a customer's first order; per cohort and
    periods since it: cohort_customers, active_customers (ordered in that period) and retention (their share).
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return query(con, COHORT_RETENTION_SQL, [period, *date_range(start_date, end_date)])


def cohort_period(first_day, last_day, min_months: int = 3) -> str:
    """'month' when the data spans at least `min_months` calendar months, else 'week' (a short sample)."""
    first, last = pd.Timestamp(first_day), pd.Timestamp(last_day)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return "month" if months >= min_months else "week"


def retention_matrix(cohorts: pd.DataFrame) -> pd.DataFrame:
    """cohort_retention's rows as a cohort x periods-since-first table of retention shares."""
    if cohorts.empty:
        return pd.DataFrame()
    frame = cohorts.assign(cohort=pd.to_datetime(cohorts["cohort_start"]).dt.strftime("%Y-%m-%d"))
    return frame.pivot(index="cohort", columns="periods_since_first", values="retention").sort_index()


# --- products, payments, shipping --------------------------------------------------------------------------------

CATEGORY_MIX_SQL = f"""
with per_category as (
    select
        year_month,
        category,
        sum(revenue) as revenue,
        cast(sum(units) as bigint) as units,
        cast(sum(orders) as bigint) as orders
    from reporting.rpt_category_days
    where {IN_RANGE}
    group by year_month, category
)

select
    year_month,
    category,
    revenue,
    units,
    orders,
    cast(revenue as double precision)
    / cast(sum(revenue) over (partition by year_month) as double precision) as share_of_revenue
from per_category
order by year_month, revenue desc, category
"""

PAYMENT_METHOD_MIX_SQL = f"""
with per_method as (
    select
        payment_method,
        payment_method_name,
        is_deferred,
        cast(sum(orders) as bigint) as orders,
        sum(revenue) as revenue
    from reporting.rpt_payment_method_days
    where {IN_RANGE}
    group by payment_method, payment_method_name, is_deferred
)

select
    payment_method,
    payment_method_name,
    is_deferred,
    orders,
    revenue,
    cast(revenue as double precision) / orders as average_order_value,
    cast(orders as double precision) / sum(orders) over () as share_of_orders,
    cast(revenue as double precision) / cast(sum(revenue) over () as double precision) as share_of_revenue
from per_method
order by revenue desc, payment_method
"""

SHIPMENT_SLA_SQL = f"""
with per_status as (
    select
        shipment_status,
        shipment_status_name,
        stage_order,
        is_final,
        is_delivered,
        cast(sum(order_items) as bigint) as order_items,
        cast(sum(orders) as bigint) as orders,
        sum(revenue) as revenue
    from reporting.rpt_shipment_status_days
    where {IN_RANGE}
    group by shipment_status, shipment_status_name, stage_order, is_final, is_delivered
)

select
    *,
    cast(order_items as double precision) / sum(order_items) over () as share_of_items,
    cast(orders as double precision) / sum(orders) over () as share_of_orders
from per_status
order by stage_order, shipment_status
"""

# Per order age in days (as of the newest order day in the range): how many orders are delivered, closed
# otherwise (returned, lost) or still open (no final status, or no shipment yet).
OPEN_SHIPMENTS_BY_AGE_SQL = f"""
with orders as (
    select
        day_number,
        shipment_status,
        is_final,
        orders
    from reporting.rpt_shipment_status_days
    where order_date is not null and {IN_RANGE}
),

aged as (
    select
        (select max(day_number) from orders) - day_number as age_days,
        shipment_status,
        is_final,
        orders
    from orders
)

select
    age_days,
    cast(sum(orders) as bigint) as orders,
    cast(sum(case when shipment_status = 'delivered' then orders else 0 end) as bigint) as delivered_orders,
    cast(sum(case when is_final and shipment_status <> 'delivered' then orders else 0 end) as bigint)
        as closed_undelivered_orders,
    cast(sum(case when is_final then 0 else orders end) as bigint) as open_orders,
    cast(sum(case when shipment_status = 'delivered' then orders else 0 end) as double precision)
    / cast(sum(orders) as double precision) as delivered_share,
    cast(sum(case when is_final then 0 else orders end) as double precision)
    / cast(sum(orders) as double precision) as open_share
from aged
group by age_days
order by age_days
"""


def category_mix(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per order month and product category (as it was when ordered): revenue, units, orders, revenue share."""
    return query(con, CATEGORY_MIX_SQL, date_range(start_date, end_date))


def payment_method_mix(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per payment method: orders, revenue, average order value, share of orders and of revenue."""
    return query(con, PAYMENT_METHOD_MIX_SQL, date_range(start_date, end_date))


def shipment_sla(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per latest shipment status: order items, orders, revenue and their shares; delivered vs final vs open."""
    return query(con, SHIPMENT_SLA_SQL, date_range(start_date, end_date))


def open_shipments_by_age(con, start_date=None, end_date=None, sla_days: int = DEFAULT_SLA_DAYS) -> pd.DataFrame:
    """Per order age in days (as of the newest order): orders delivered, closed undelivered, still open;
    `past_sla` marks the ages beyond `sla_days`, where an open order is a breach."""
    frame = query(con, OPEN_SHIPMENTS_BY_AGE_SQL, date_range(start_date, end_date))
    return frame.assign(past_sla=frame["age_days"] > sla_days)


# --- exploring gold ----------------------------------------------------------------------------------------------

EXAMPLE_JOIN_SQL = """
select
    order_item_id,
    order_id,
    order_date,
    customer_id,
    segment,
    product_name,
    category,
    payment_method_name,
    shipment_status_name,
    quantity,
    total_amount
from reporting.rpt_order_item_details
order by ordered_at desc nulls last, order_item_id
limit ?
"""


def _gold_table(table: str) -> str:
    """`schema.table` of a gold or data-quality table; anything else is refused (names are never user SQL)."""
    if table in GOLD_TABLES:
        return f"{GOLD_SCHEMA}.{table}"
    if table in DATA_QUALITY_TABLES:
        return f"{DATA_QUALITY_SCHEMA}.{table}"
    tables = ", ".join(GOLD_TABLES + DATA_QUALITY_TABLES)
    raise ValueError(f"{table!r} is not a gold or data-quality table; use one of {tables}.")


def gold_row_counts(con) -> pd.DataFrame:
    """table, rows: one row per gold table."""
    sql = "\nunion all\n".join(
        f"select '{t}' as table_name, count(*) as row_count from {_gold_table(t)}" for t in GOLD_TABLES
    )
    return query(con, sql)


def sample_rows(con, table: str, limit: int = 5) -> pd.DataFrame:
    """The first `limit` rows of a gold (or data-quality) table, as stored."""
    return query(con, f"select * from {_gold_table(table)} limit ?", [int(limit)])


def example_join(con, limit: int = 10) -> pd.DataFrame:
    """The newest order items with every dimension's readable attributes: the star schema's one join."""
    return query(con, EXAMPLE_JOIN_SQL, [int(limit)])


# --- the report's summary ----------------------------------------------------------------------------------------

ANALYSES = {  # every query the module runs over the reporting models, for tests and for reading
    "headline": HEADLINE_SQL,
    "daily_revenue": DAILY_REVENUE_SQL,
    "monthly_revenue_trend": MONTHLY_REVENUE_TREND_SQL,
    "top_products": TOP_PRODUCTS_SQL,
    "customer_lifetime_value": CUSTOMER_LIFETIME_VALUE_SQL,
    "clv_by_segment": CLV_BY_SEGMENT_SQL,
    "cohort_retention": COHORT_RETENTION_SQL,
    "category_mix": CATEGORY_MIX_SQL,
    "payment_method_mix": PAYMENT_METHOD_MIX_SQL,
    "shipment_sla": SHIPMENT_SLA_SQL,
    "open_shipments_by_age": OPEN_SHIPMENTS_BY_AGE_SQL,
    "example_join": EXAMPLE_JOIN_SQL,
}


def summary(
    con,
    start_date=None,
    end_date=None,
    target: str | None = None,
    top: pd.DataFrame | None = None,
    backlog: pd.DataFrame | None = None,
) -> dict:
    """The numbers a scheduler or a test reads: totals, months, top product ids, open orders past the SLA."""
    head = headline(con, start_date, end_date).iloc[0]
    top = top_products(con, start_date, end_date) if top is None else top
    backlog = open_shipments_by_age(con, start_date, end_date) if backlog is None else backlog
    months = monthly_revenue_trend(con, start_date, end_date)["year_month"].tolist()

    def whole(value) -> int:
        return 0 if pd.isna(value) else int(value)

    return {
        "target": target,
        "start_date": start_date,
        "end_date": end_date,
        "revenue": 0.0 if pd.isna(head["revenue"]) else round(float(head["revenue"]), 2),
        "orders": whole(head["orders"]),
        "items": whole(head["items"]),
        "order_items": whole(head["order_items"]),
        "customers": whole(head["customers"]),
        "months": months,
        "top_product_ids": [str(p) for p in top["product_id"]],
        "open_orders_past_sla": whole(backlog.loc[backlog["past_sla"], "open_orders"].sum()),
        "sla_days": DEFAULT_SLA_DAYS,
    }


def write_summary(report_dir: str | Path | None, values: dict) -> Path | None:
    """Write summary.json into the report folder; None (and nothing written) outside a report run."""
    if not report_dir:
        return None
    from ecomdwh.reports import SUMMARY

    path = Path(report_dir) / SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, default=str) + "\n", encoding="utf-8")
    return path
