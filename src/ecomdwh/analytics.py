"""Analytics on the gold star schema: each function takes a connection and returns a pandas DataFrame.

    from ecomdwh import analytics, warehouse
    con = warehouse.connect(read_only=True)
    analytics.monthly_revenue_trend(con, start_date="2026-03-01", end_date="2026-03-31")

The SQL is written once, with dbt's `{{ ref('model') }}`, and rendered here to `gold.model` (the data-quality
models to `data_quality.model`), so the
same text runs on DuckDB, PostgreSQL and Redshift: plain SQL only (calendar parts from dim_date, case,
cast, count(distinct), window functions), no engine-specific functions and no date arithmetic.
The seed's two sample queries are the dbt analyses themselves (dbt/analyses/), run verbatim.

An optional order-date range (`start_date`, `end_date`, inclusive, 'YYYY-MM-DD') applies to every
query the same way: the fact table is replaced by the fact rows in range (a derived table), so the
analyses keep their text. Items whose order date is unknown (date key -1) fall outside any range.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ecomdwh import relations
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
DEFAULT_SLA_DAYS = 5  # orders older than this should have reached a final shipment status
PERIODS = {"month": 1, "week": 7}  # cohort period -> step between period numbers


# --- rendering -------------------------------------------------------------------------------------------------


def date_key(day: str | date) -> int:
    """dim_date's key of a day: YYYYMMDD as an integer."""
    parsed = day if isinstance(day, date) else date.fromisoformat(str(day))
    return parsed.year * 10000 + parsed.month * 100 + parsed.day


def render(sql: str, start_date: str | None = None, end_date: str | None = None, schema: str = GOLD_SCHEMA) -> str:
    """dbt-style SQL with `{{ ref('x') }}` as SQL for the warehouse; the fact table limited to the date range."""

    def relation(name: str) -> str:
        if name == "fact_order_items" and (start_date or end_date):
            low = date_key(start_date) if start_date else 10000101
            high = date_key(end_date) if end_date else 99991231
            return f"(select * from {schema}.{name} where order_date_key between {low} and {high})"
        return f"{DATA_QUALITY_SCHEMA if name in DATA_QUALITY_TABLES else schema}.{name}"

    return relations.render(sql, ref=relation)


def analysis_sql(name: str, analyses_dir: Path | None = None) -> str:
    """The text of a dbt analysis (dbt/analyses/<name>.sql), unrendered."""
    if analyses_dir is None:
        from ecomdwh.settings import get_settings

        analyses_dir = get_settings().dbt_dir / "analyses"
    return (analyses_dir / f"{name}.sql").read_text(encoding="utf-8")


def query(con, sql: str, start_date: str | None = None, end_date: str | None = None) -> pd.DataFrame:
    """Render and run. Exact decimals become numbers pandas and matplotlib can use: money a float, a whole
    number (PostgreSQL's sum of a count is numeric) an integer."""
    return plain_numbers(read_sql(con, render(sql, start_date, end_date)))


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


# --- the seed's sample queries (dbt analyses, verbatim) ----------------------------------------------------------


def monthly_revenue_trend(con, start_date=None, end_date=None, analyses_dir: Path | None = None) -> pd.DataFrame:
    """year_month, revenue, orders, items: dbt/analyses/monthly_revenue_trend.sql."""
    return query(con, analysis_sql("monthly_revenue_trend", analyses_dir), start_date, end_date)


def top_products(con, start_date=None, end_date=None, analyses_dir: Path | None = None) -> pd.DataFrame:
    """The ten products with the most revenue: dbt/analyses/top_products.sql."""
    return query(con, analysis_sql("top_products", analyses_dir), start_date, end_date)


# --- headline and daily revenue ----------------------------------------------------------------------------------

HEADLINE_SQL = """
select
    sum(f.total_amount) as revenue,
    count(distinct f.order_id) as orders,
    sum(f.quantity) as items,
    count(*) as order_items,
    count(distinct case when c.customer_id <> '-1' then c.customer_id end) as customers,
    min(f.ordered_at) as first_ordered_at,
    max(f.ordered_at) as last_ordered_at
from {{ ref('fact_order_items') }} as f
inner join {{ ref('dim_customers') }} as c on f.customer_key = c.customer_key
"""

DAILY_REVENUE_SQL = """
select
    d.date_day,
    sum(f.total_amount) as revenue,
    count(distinct f.order_id) as orders,
    sum(f.quantity) as items
from {{ ref('fact_order_items') }} as f
inner join {{ ref('dim_date') }} as d on f.order_date_key = d.date_key
where d.date_key <> -1
group by d.date_day
order by d.date_day
"""


def headline(con, start_date=None, end_date=None) -> pd.DataFrame:
    """One row: revenue, orders, items, order items, customers, first and last order time."""
    return query(con, HEADLINE_SQL, start_date, end_date)


def daily_revenue(con, start_date=None, end_date=None) -> pd.DataFrame:
    """date_day, revenue, orders, items per order day (the monthly trend's finer grain)."""
    return query(con, DAILY_REVENUE_SQL, start_date, end_date)


# --- customers ---------------------------------------------------------------------------------------------------

# Revenue per customer across all its versions (the fact points at the version valid at order time),
# described by the customer's current version. The unknown member is no customer and is left out.
_PER_CUSTOMER_CTES = """
with items as (
    select
        c.customer_id,
        f.order_id,
        f.ordered_at,
        f.quantity,
        f.total_amount
    from {{ ref('fact_order_items') }} as f
    inner join {{ ref('dim_customers') }} as c on f.customer_key = c.customer_key
    where c.customer_id <> '-1'
),

per_customer as (
    select
        customer_id,
        count(distinct order_id) as orders,
        sum(quantity) as items,
        sum(total_amount) as revenue,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from items
    group by customer_id
),

current_customers as (
    select customer_id, segment, country, signup_date
    from {{ ref('dim_customers') }}
    where is_current and customer_id <> '-1'
),

customers as (
    select
        p.customer_id,
        cur.segment,
        cur.country,
        cur.signup_date,
        p.orders,
        p.items,
        p.revenue,
        p.first_ordered_at,
        p.last_ordered_at
    from per_customer as p
    inner join current_customers as cur on p.customer_id = cur.customer_id
)
"""

CUSTOMER_LIFETIME_VALUE_SQL = (
    _PER_CUSTOMER_CTES
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
    _PER_CUSTOMER_CTES
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
    return query(con, CUSTOMER_LIFETIME_VALUE_SQL, start_date, end_date)


def clv_by_segment(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per current segment: customers, orders, revenue, revenue and orders per customer, repeat-buyer share."""
    return query(con, CLV_BY_SEGMENT_SQL, start_date, end_date)


# --- cohorts -----------------------------------------------------------------------------------------------------

# Periods are numbered from dim_date, which has every day of its range: a month is year * 12 + month,
# a week is the day number (row_number over the days) of its Monday. Differences of these numbers
# count months or (divided by 7) weeks without any engine's date arithmetic.
COHORT_RETENTION_SQL = """
with calendar as (
    select
        date_key,
        date_day,
        year * 12 + month as month_number,
        row_number() over (order by date_key) - (day_of_week + 6) % 7 as week_number
    from {{ ref('dim_date') }}
    where date_key <> -1
),

periods as (
    select date_key, date_day, {period}_number as period_number
    from calendar
),

customer_periods as (
    select distinct
        c.customer_id,
        p.period_number
    from {{ ref('fact_order_items') }} as f
    inner join {{ ref('dim_customers') }} as c on f.customer_key = c.customer_key
    inner join periods as p on f.order_date_key = p.date_key
    where c.customer_id <> '-1'
),

cohorts as (
    select customer_id, min(period_number) as cohort_number
    from customer_periods
    group by customer_id
),

cohort_sizes as (
    select cohort_number, count(*) as cohort_customers
    from cohorts
    group by cohort_number
),

activity as (
    select
        co.cohort_number,
        cp.period_number,
        count(*) as active_customers
    from customer_periods as cp
    inner join cohorts as co on cp.customer_id = co.customer_id
    group by co.cohort_number, cp.period_number
),

period_starts as (
    select period_number, min(date_day) as period_start
    from periods
    group by period_number
),

final as (
    select
        ps.period_start as cohort_start,
        cast((a.period_number - a.cohort_number) / {step} as integer) as periods_since_first,
        s.cohort_customers,
        a.active_customers,
        cast(a.active_customers as double precision) / s.cohort_customers as retention
    from activity as a
    inner join cohort_sizes as s on a.cohort_number = s.cohort_number
    inner join period_starts as ps on a.cohort_number = ps.period_number
)

select * from final
order by cohort_start, periods_since_first
"""


def cohort_retention_sql(period: str = "month") -> str:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return COHORT_RETENTION_SQL.replace("{period}", period).replace("{step}", str(PERIODS[period]))


def cohort_retention(con, start_date=None, end_date=None, period: str = "month") -> pd.DataFrame:
    """Cohort = the period (month or Monday-started week) of a customer's first order; per cohort and
    periods since it: cohort_customers, active_customers (ordered in that period) and retention (their share).
    """
    return query(con, cohort_retention_sql(period), start_date, end_date)


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

CATEGORY_MIX_SQL = """
with items as (
    select
        d.year_month,
        p.category,
        f.order_id,
        f.quantity,
        f.total_amount
    from {{ ref('fact_order_items') }} as f
    inner join {{ ref('dim_products') }} as p on f.product_key = p.product_key
    inner join {{ ref('dim_date') }} as d on f.order_date_key = d.date_key
),

per_category as (
    select
        year_month,
        category,
        sum(total_amount) as revenue,
        sum(quantity) as units,
        count(distinct order_id) as orders
    from items
    group by year_month, category
),

final as (
    select
        year_month,
        category,
        revenue,
        units,
        orders,
        cast(revenue as double precision)
        / cast(sum(revenue) over (partition by year_month) as double precision) as share_of_revenue
    from per_category
)

select * from final
order by year_month, revenue desc, category
"""

PAYMENT_METHOD_MIX_SQL = """
with per_method as (
    select
        pm.payment_method,
        pm.payment_method_name,
        pm.is_deferred,
        count(distinct f.order_id) as orders,
        sum(f.total_amount) as revenue
    from {{ ref('fact_order_items') }} as f
    inner join {{ ref('dim_payment_methods') }} as pm on f.payment_method_key = pm.payment_method_key
    group by pm.payment_method, pm.payment_method_name, pm.is_deferred
),

final as (
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
)

select * from final
order by revenue desc, payment_method
"""

# Gold keeps each order's latest shipment status, not when it was reached: the fact cannot time a delivery.
SHIPMENT_SLA_SQL = """
with per_status as (
    select
        s.shipment_status,
        s.shipment_status_name,
        s.stage_order,
        coalesce(s.is_final, false) as is_final,
        case when s.shipment_status = 'delivered' then true else false end as is_delivered,
        count(*) as order_items,
        count(distinct f.order_id) as orders,
        sum(f.total_amount) as revenue
    from {{ ref('fact_order_items') }} as f
    inner join {{ ref('dim_shipment_status') }} as s on f.shipment_status_key = s.shipment_status_key
    group by s.shipment_status, s.shipment_status_name, s.stage_order, s.is_final
),

final as (
    select
        *,
        cast(order_items as double precision) / sum(order_items) over () as share_of_items,
        cast(orders as double precision) / sum(orders) over () as share_of_orders
    from per_status
)

select * from final
order by stage_order, shipment_status
"""

# The SLA measure gold supports: per order age in days (as of the newest order in gold), how many orders
# are delivered, closed otherwise (returned, lost) or still open (no final status, or no shipment yet).
OPEN_SHIPMENTS_BY_AGE_SQL = """
with calendar as (
    select
        date_key,
        row_number() over (order by date_key) as day_number
    from {{ ref('dim_date') }}
    where date_key <> -1
),

orders as (
    select distinct
        f.order_id,
        cal.day_number,
        s.shipment_status,
        coalesce(s.is_final, false) as is_final
    from {{ ref('fact_order_items') }} as f
    inner join calendar as cal on f.order_date_key = cal.date_key
    inner join {{ ref('dim_shipment_status') }} as s on f.shipment_status_key = s.shipment_status_key
),

aged as (
    select
        (select max(day_number) from orders) - day_number as age_days,
        shipment_status,
        is_final
    from orders
),

final as (
    select
        age_days,
        count(*) as orders,
        sum(case when shipment_status = 'delivered' then 1 else 0 end) as delivered_orders,
        sum(case when is_final and shipment_status <> 'delivered' then 1 else 0 end) as closed_undelivered_orders,
        sum(case when is_final then 0 else 1 end) as open_orders,
        cast(sum(case when shipment_status = 'delivered' then 1 else 0 end) as double precision) / count(*)
            as delivered_share,
        cast(sum(case when is_final then 0 else 1 end) as double precision) / count(*) as open_share
    from aged
    group by age_days
)

select * from final
order by age_days
"""


def category_mix(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per order month and product category (as it was when ordered): revenue, units, orders, revenue share."""
    return query(con, CATEGORY_MIX_SQL, start_date, end_date)


def payment_method_mix(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per payment method: orders, revenue, average order value, share of orders and of revenue."""
    return query(con, PAYMENT_METHOD_MIX_SQL, start_date, end_date)


def shipment_sla(con, start_date=None, end_date=None) -> pd.DataFrame:
    """Per latest shipment status: order items, orders, revenue and their shares; delivered vs final vs open."""
    return query(con, SHIPMENT_SLA_SQL, start_date, end_date)


def open_shipments_by_age(con, start_date=None, end_date=None, sla_days: int = DEFAULT_SLA_DAYS) -> pd.DataFrame:
    """Per order age in days (as of the newest order): orders delivered, closed undelivered, still open;
    `past_sla` marks the ages beyond `sla_days`, where an open order is a breach."""
    frame = query(con, OPEN_SHIPMENTS_BY_AGE_SQL, start_date, end_date)
    return frame.assign(past_sla=frame["age_days"] > sla_days)


# --- exploring gold ----------------------------------------------------------------------------------------------

EXAMPLE_JOIN_SQL = """
select
    f.order_item_id,
    f.order_id,
    d.date_day as order_date,
    c.customer_id,
    c.segment,
    p.product_name,
    p.category,
    pm.payment_method_name,
    s.shipment_status_name,
    f.quantity,
    f.total_amount
from {{ ref('fact_order_items') }} as f
inner join {{ ref('dim_date') }} as d on f.order_date_key = d.date_key
inner join {{ ref('dim_customers') }} as c on f.customer_key = c.customer_key
inner join {{ ref('dim_products') }} as p on f.product_key = p.product_key
inner join {{ ref('dim_payment_methods') }} as pm on f.payment_method_key = pm.payment_method_key
inner join {{ ref('dim_shipment_status') }} as s on f.shipment_status_key = s.shipment_status_key
order by f.ordered_at desc nulls last, f.order_item_id
limit {limit}
"""


def _gold_table(table: str) -> str:
    if table not in GOLD_TABLES + DATA_QUALITY_TABLES:
        tables = ", ".join(GOLD_TABLES + DATA_QUALITY_TABLES)
        raise ValueError(f"{table!r} is not a gold or data-quality table; use one of {tables}.")
    return table


def gold_row_counts(con) -> pd.DataFrame:
    """table, rows: one row per gold table."""
    sql = "\nunion all\n".join(
        f"select '{t}' as table_name, count(*) as row_count from {{{{ ref('{t}') }}}}" for t in GOLD_TABLES
    )
    return query(con, sql)


def sample_rows(con, table: str, limit: int = 5) -> pd.DataFrame:
    """The first `limit` rows of a gold (or data-quality) table, as stored."""
    return query(con, f"select * from {{{{ ref('{_gold_table(table)}') }}}} limit {int(limit)}")


def example_join(con, limit: int = 10) -> pd.DataFrame:
    """The newest order items with every dimension's readable attributes: the star schema's one join."""
    return query(con, EXAMPLE_JOIN_SQL.replace("{limit}", str(int(limit))))


# --- the report's summary ----------------------------------------------------------------------------------------

ANALYSES = {  # every query the module runs, for tests and for reading
    "headline": HEADLINE_SQL,
    "daily_revenue": DAILY_REVENUE_SQL,
    "customer_lifetime_value": CUSTOMER_LIFETIME_VALUE_SQL,
    "clv_by_segment": CLV_BY_SEGMENT_SQL,
    "cohort_retention_month": cohort_retention_sql("month"),
    "cohort_retention_week": cohort_retention_sql("week"),
    "category_mix": CATEGORY_MIX_SQL,
    "payment_method_mix": PAYMENT_METHOD_MIX_SQL,
    "shipment_sla": SHIPMENT_SLA_SQL,
    "open_shipments_by_age": OPEN_SHIPMENTS_BY_AGE_SQL,
    "example_join": EXAMPLE_JOIN_SQL.replace("{limit}", "10"),
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
