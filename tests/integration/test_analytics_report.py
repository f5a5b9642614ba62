"""The analytics report as a user runs it, on a warehouse the pipeline built: `ecomdwh report analytics` writes a
self-contained HTML with the charts and a summary.json whose numbers equal SQL on the warehouse; a report that
cannot run exits 1 with one sentence. The analytics functions, which read dbt's reporting models, agree with
counts taken straight from the marts, give the same answers on PostgreSQL as on DuckDB, and draw every chart."""

from __future__ import annotations

import json
import numbers
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import nbformat
import numpy as np
import pandas as pd
import pytest

from ecomdwh import analytics, charts, kernel
from ecomdwh.settings import Settings
from ecomdwh.warehouse.connection import connect
from tests.conftest import ROOT, latest_report, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPORT_DAY = "2026-03-03"
CHARTS = 8  # one per analysis in the notebook


@pytest.fixture(scope="module")
def gold(small_gold: tuple[Settings, dict]) -> Settings:
    """The session's small pipeline-built warehouse (tests/conftest.py), read only here."""
    return small_gold[0]


def cli_env(settings: Settings, reports: Path) -> dict[str, str]:
    return {
        "ECOMDWH_DUCKDB_PATH": str(settings.warehouse_path),
        "ECOMDWH_REPORTS_DIR": str(reports),
        "ECOMDWH_TARGET": "local",
    }


def direct(settings: Settings, where: str = "") -> dict:
    """The summary's numbers straight from the warehouse, written independently of ecomdwh.analytics."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        revenue, orders, items = con.execute(
            f"select sum(total_amount), count(distinct order_id), sum(quantity) from gold.fact_order_items {where}"
        ).fetchone()
        customers = con.execute(
            "select count(distinct c.customer_id) from gold.fact_order_items f join gold.dim_customers c"
            f" on f.customer_key = c.customer_key {where or 'where true'} and c.customer_id <> '-1'"
        ).fetchone()[0]
        top = con.execute(
            "select p.product_id from gold.fact_order_items f join gold.dim_products p on f.product_key = p.product_key"
            f" {where} group by p.product_id, p.product_name, p.category"
            " order by sum(f.total_amount) desc, p.product_id limit 10"
        ).fetchall()
    finally:
        con.close()
    return {
        "revenue": round(float(revenue), 2),
        "orders": orders,
        "items": int(items),
        "customers": customers,
        "top_product_ids": [p for (p,) in top],
    }


def check_report(folder: Path, kind: str = "analytics") -> dict:
    html = (folder / f"{kind}.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64") >= CHARTS, "the charts are not embedded in the HTML"
    assert '<script src="http' not in html, "the report loads a script from the network"
    executed = nbformat.read(folder / f"{kind}.ipynb", as_version=4)
    assert not [o for cell in executed.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    return json.loads((folder / "summary.json").read_text())


def test_report_analytics_as_a_user_runs_it(gold: Settings, tmp_path: Path):
    reports = tmp_path / "reports"
    result = run_cli("report", "analytics", "--date", REPORT_DAY, env=cli_env(gold, reports))
    assert result.returncode == 0, result.stdout + result.stderr
    folder = latest_report(reports, "analytics", REPORT_DAY)
    assert str(folder / "analytics.html") in result.stdout.replace("\n", "")
    summary = check_report(folder)
    assert {k: summary[k] for k in ("revenue", "orders", "items", "customers", "top_product_ids")} == direct(gold)
    assert summary["orders"] > 100 and len(summary["top_product_ids"]) == 10
    assert summary["target"] == "local" and summary["months"] == ["2026-03"]


def test_report_analytics_for_a_date_range(gold: Settings, tmp_path: Path):
    reports = tmp_path / "reports"
    result = run_cli(
        "report",
        "analytics",
        "--date",
        REPORT_DAY,
        "--start",
        "2026-03-02",
        "--end",
        "2026-03-02",
        env=cli_env(gold, reports),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = check_report(latest_report(reports, "analytics", REPORT_DAY))
    expected = direct(gold, "where order_date_key between 20260302 and 20260302")
    assert {k: summary[k] for k in expected} == expected
    assert (summary["start_date"], summary["end_date"]) == ("2026-03-02", "2026-03-02")
    assert 0 < summary["revenue"] < direct(gold)["revenue"]


def test_a_report_that_cannot_run_exits_1_with_one_sentence(tmp_path: Path):
    missing = tmp_path / "nowhere" / "ecomdwh.duckdb"
    env = {
        "ECOMDWH_DUCKDB_PATH": str(missing),
        "ECOMDWH_REPORTS_DIR": str(tmp_path / "reports"),
        "ECOMDWH_TARGET": "local",
        "ECOMDWH_DEBUG": "",
    }
    result = run_cli("report", "analytics", "--date", REPORT_DAY, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "There is no local warehouse" in errors[0] and str(missing) in errors[0]
    assert not missing.exists()  # a report never creates an empty warehouse


def test_the_explore_notebook_runs(gold: Settings, emulator_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import papermill

    # The kernel inherits this environment: the warehouse, and the lake the notebook reads quarantine from.
    for name, value in {**emulator_env, "ECOMDWH_ENV": gold.env}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ECOMDWH_DUCKDB_PATH", str(gold.warehouse_path))
    monkeypatch.setenv("ECOMDWH_TARGET", "local")
    # Its %dbt cell writes dbt's target/ and logs/: here, not in dbt/.
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    executed = tmp_path / "explore.ipynb"
    kernel.ensure_kernel()
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "explore.ipynb"),
        str(executed),
        parameters={"target": "local"},
        kernel_name=kernel.KERNEL_NAME,
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        execution_timeout=300,
    )
    outputs = [
        o for cell in nbformat.read(executed, as_version=4).cells if cell.cell_type == "code" for o in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("fact_order_items" in str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert any("raw_line" in str(o.get("data", {}).get("text/html", "")) for o in outputs)  # quarantine from S3
    assert any("year_month" in str(o.get("data", {}).get("text/html", "")) for o in outputs)  # a %%sql cell
    assert (tmp_path / "dbt-target" / "manifest.json").exists()  # the %dbt show cell


# --- the functions against the marts ---------------------------------------------------------------------------

RANGES = [(None, None), ("2026-03-02", "2026-03-02"), ("2026-03-02", None)]

# Every fact row with the attributes the measures group by, straight from gold; the measures below are counted
# from it in pandas, independently of the reporting models.
ITEMS_SQL = """
select
    f.order_id,
    f.quantity,
    cast(f.total_amount as double) as total_amount,
    d.date_day,
    d.year_month,
    c.customer_id,
    cur.segment as current_segment,
    p.product_id,
    p.category,
    pm.payment_method,
    s.shipment_status,
    coalesce(s.is_final, false) as is_final
from gold.fact_order_items as f
inner join gold.dim_date as d on f.order_date_key = d.date_key
inner join gold.dim_customers as c on f.customer_key = c.customer_key
left join gold.dim_customers as cur on c.customer_id = cur.customer_id and cur.is_current
inner join gold.dim_products as p on f.product_key = p.product_key
inner join gold.dim_payment_methods as pm on f.payment_method_key = pm.payment_method_key
inner join gold.dim_shipment_status as s on f.shipment_status_key = s.shipment_status_key
"""


@pytest.fixture(scope="module")
def marts_items(gold: Settings) -> pd.DataFrame:
    con = duckdb.connect(str(gold.warehouse_path), read_only=True)
    try:
        return con.execute(ITEMS_SQL).df()
    finally:
        con.close()


def in_range(items: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    if start is None and end is None:
        return items
    days = pd.to_datetime(items["date_day"])
    keep = days.notna()
    keep &= days >= pd.Timestamp(start) if start else keep
    keep &= days <= pd.Timestamp(end) if end else keep
    return items[keep]


def plain_key(value):
    """Days as dates and whole numbers as ints, whichever engine or pandas made them."""
    if isinstance(value, tuple):
        return tuple(plain_key(v) for v in value)
    if isinstance(value, date):
        return pd.Timestamp(value).date()
    return int(value) if isinstance(value, numbers.Integral) else value


def as_dict(frame: pd.DataFrame, key, value) -> dict:
    """{key: value rounded to cents} of a frame's rows; `key` a column or a list of them."""
    keys = list(frame[key].itertuples(index=False, name=None)) if isinstance(key, list) else frame[key].tolist()
    return {plain_key(k): round(float(v), 2) for k, v in zip(keys, frame[value], strict=True)}


@pytest.mark.parametrize("start, end", RANGES)
def test_the_functions_agree_with_counts_from_the_marts(gold: Settings, marts_items: pd.DataFrame, start, end):
    items = in_range(marts_items, start, end)
    assert len(items) > 50
    known = items[items["customer_id"] != "-1"]
    con = connect(gold, "local", read_only=True)
    try:
        head = analytics.headline(con, start, end).iloc[0]
        assert (head["orders"], head["items"], head["order_items"], head["customers"]) == (
            items["order_id"].nunique(),
            items["quantity"].sum(),
            len(items),
            known["customer_id"].nunique(),
        )
        assert round(float(head["revenue"]), 2) == round(items["total_amount"].sum(), 2)

        daily = analytics.daily_revenue(con, start, end)
        dated = items[items["date_day"].notna()]
        assert as_dict(daily, "date_day", "orders") == as_dict(
            dated.groupby("date_day", as_index=False)["order_id"].nunique(), "date_day", "order_id"
        )
        monthly = analytics.monthly_revenue_trend(con, start, end)
        assert as_dict(monthly, "year_month", "revenue") == as_dict(
            items.groupby("year_month", as_index=False)["total_amount"].sum(), "year_month", "total_amount"
        )

        clv = analytics.customer_lifetime_value(con, start, end)
        per_customer = known.groupby("customer_id", as_index=False).agg(
            orders=("order_id", "nunique"), revenue=("total_amount", "sum"), segment=("current_segment", "first")
        )
        assert as_dict(clv, "customer_id", "orders") == as_dict(per_customer, "customer_id", "orders")
        assert as_dict(clv, "customer_id", "revenue") == as_dict(per_customer, "customer_id", "revenue")
        segments = analytics.clv_by_segment(con, start, end)
        repeat = per_customer.assign(repeat=per_customer["orders"] > 1).groupby("segment", as_index=False)
        assert as_dict(segments, "segment", "customers") == as_dict(repeat.size(), "segment", "size")
        assert as_dict(segments, "segment", "repeat_share") == as_dict(repeat["repeat"].mean(), "segment", "repeat")

        # Weeks start on Monday; a cohort is the week of a customer's first order in the range.
        weeks = known.assign(week=pd.to_datetime(known["date_day"]).dt.to_period("W-SUN").dt.start_time)
        weeks = weeks[["customer_id", "week"]].drop_duplicates()
        weeks = weeks.assign(cohort=weeks.groupby("customer_id")["week"].transform("min"))
        weeks = weeks.assign(since=(weeks["week"] - weeks["cohort"]).dt.days // 7)
        expected = weeks.groupby(["cohort", "since"], as_index=False).size()
        cohorts = analytics.cohort_retention(con, start, end, period="week")
        cohorts = cohorts.assign(cohort=pd.to_datetime(cohorts["cohort_start"]), since=cohorts["periods_since_first"])
        assert as_dict(cohorts, ["cohort", "since"], "active_customers") == as_dict(
            expected, ["cohort", "since"], "size"
        )

        mix = analytics.category_mix(con, start, end)
        assert as_dict(mix, ["year_month", "category"], "orders") == as_dict(
            items.groupby(["year_month", "category"], as_index=False)["order_id"].nunique(),
            ["year_month", "category"],
            "order_id",
        )
        methods = analytics.payment_method_mix(con, start, end)
        assert as_dict(methods, "payment_method", "orders") == as_dict(
            items.groupby("payment_method", as_index=False)["order_id"].nunique(), "payment_method", "order_id"
        )
        statuses = analytics.shipment_sla(con, start, end)
        assert as_dict(statuses, "shipment_status", "order_items") == as_dict(
            items.groupby("shipment_status", as_index=False).size(), "shipment_status", "size"
        )

        orders = dated[["order_id", "date_day", "is_final"]].drop_duplicates()
        days = pd.to_datetime(orders["date_day"])
        orders = orders.assign(age=(days.max() - days).dt.days, open=~orders["is_final"].astype(bool))
        backlog = analytics.open_shipments_by_age(con, start, end)
        assert as_dict(backlog, "age_days", "open_orders") == as_dict(
            orders.groupby("age", as_index=False)["open"].sum(), "age", "open"
        )
        assert as_dict(backlog, "age_days", "orders") == as_dict(
            orders.groupby("age", as_index=False).size(), "age", "size"
        )
    finally:
        con.close()


# --- the same answers on PostgreSQL ---------------------------------------------------------------------------------


def normal(frame: pd.DataFrame) -> list[tuple]:
    """Rows with each engine's types made comparable: numbers as rounded floats or ints, the rest as text."""

    def value(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, numbers.Integral):
            return int(v)
        if isinstance(v, numbers.Real | Decimal):
            return round(float(v), 6)
        return str(v)

    return [tuple(value(v) for v in row) for row in frame.itertuples(index=False, name=None)]


CALLS = {
    "monthly_revenue_trend": lambda c, s, e: analytics.monthly_revenue_trend(c, s, e),
    "top_products": lambda c, s, e: analytics.top_products(c, s, e),
    "headline": lambda c, s, e: analytics.headline(c, s, e),
    "daily_revenue": lambda c, s, e: analytics.daily_revenue(c, s, e),
    "customer_lifetime_value": lambda c, s, e: analytics.customer_lifetime_value(c, s, e),
    "clv_by_segment": lambda c, s, e: analytics.clv_by_segment(c, s, e),
    "cohort_month": lambda c, s, e: analytics.cohort_retention(c, s, e, period="month"),
    "cohort_week": lambda c, s, e: analytics.cohort_retention(c, s, e, period="week"),
    "category_mix": lambda c, s, e: analytics.category_mix(c, s, e),
    "payment_method_mix": lambda c, s, e: analytics.payment_method_mix(c, s, e),
    "shipment_sla": lambda c, s, e: analytics.shipment_sla(c, s, e),
    "open_shipments_by_age": lambda c, s, e: analytics.open_shipments_by_age(c, s, e),
    "example_join": lambda c, s, e: analytics.example_join(c),
    "gold_row_counts": lambda c, s, e: analytics.gold_row_counts(c),
    "sample_rows": lambda c, s, e: analytics.sample_rows(c, "dim_payment_methods", 50),
}


def test_every_analysis_gives_the_same_answer_on_postgresql(gold: Settings):
    # The session's pipeline built the same gold, and its reporting models, on DuckDB and on PostgreSQL.
    local, pg = connect(gold, "local", read_only=True), connect(gold, "pg")
    try:
        for start, end in RANGES:
            for name, call in CALLS.items():
                on_duckdb, on_postgres = call(local, start, end), call(pg, start, end)
                assert list(on_duckdb.columns) == list(on_postgres.columns), name
                if name == "sample_rows":  # rows as stored, in no particular order
                    on_duckdb, on_postgres = (
                        on_duckdb.sort_values("payment_method"),
                        on_postgres.sort_values("payment_method"),
                    )
                assert normal(on_duckdb) == normal(on_postgres), (name, start, end)
                assert len(on_duckdb), name
        empty = analytics.summary(pg, "2030-01-01", "2030-12-31")
        assert (empty["revenue"], empty["orders"], empty["top_product_ids"], empty["open_orders_past_sla"]) == (
            0.0,
            0,
            [],
            0,
        )
    finally:
        local.close()
        pg.close()


# --- exploring gold and the charts -------------------------------------------------------------------------------


def test_exploring_gold(gold: Settings):
    con = connect(gold, "local", read_only=True)
    counts = dict(analytics.gold_row_counts(con)[["table_name", "row_count"]].itertuples(index=False, name=None))
    assert set(counts) == set(analytics.GOLD_TABLES) and counts["fact_order_items"] > 100
    assert len(analytics.sample_rows(con, "dim_customers", 2)) == 2
    assert set(analytics.sample_rows(con, "unknown_member_counts")["dimension"]) >= {"dim_customers"}
    joined = analytics.example_join(con, 3)
    assert len(joined) == 3 and joined["order_date"].is_monotonic_decreasing  # newest first


@pytest.mark.parametrize("start", [None, "2030-01-01"])
def test_every_chart_draws(gold: Settings, start):
    from matplotlib.figure import Figure

    con = connect(gold, "local", read_only=True)
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
    assert all(len(f) for f in frames.values()) == (start is None)
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
