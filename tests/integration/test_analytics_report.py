"""The analytics report as a user runs it, on a warehouse the pipeline built: `ecomdwh report analytics` writes a
self-contained HTML with the charts and a summary.json whose numbers equal SQL on the warehouse; a report that
cannot run exits 1 with one sentence. The analytics queries give the same answers on PostgreSQL as on DuckDB."""

from __future__ import annotations

import json
import numbers
from decimal import Decimal
from pathlib import Path

import duckdb
import nbformat
import numpy as np
import pandas as pd
import pytest

from ecomdwh import analytics, jupyter
from ecomdwh.settings import Settings
from tests.conftest import ROOT, latest_report, run_cli
from tests.unit.test_analytics_sql import build_gold, duckdb_runner

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
    jupyter.ensure_kernel()
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "explore.ipynb"),
        str(executed),
        parameters={"target": "local"},
        kernel_name=jupyter.KERNEL_NAME,
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


def test_every_analysis_gives_the_same_answer_on_postgresql(pg_db: dict):
    import psycopg2

    pg = psycopg2.connect(**pg_db)
    pg.autocommit = True

    def run_pg(sql: str, rows=None) -> None:
        with pg.cursor() as cur:
            if rows is None:
                cur.execute(sql)
            else:
                cur.executemany(sql.replace("?", "%s"), rows)

    local = duckdb.connect()
    try:
        build_gold(run_pg)
        build_gold(duckdb_runner(local))
        calls = {
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
        }
        for start, end in ((None, None), ("2026-01-10", "2026-03-03")):
            for name, call in calls.items():
                on_duckdb, on_postgres = call(local, start, end), call(pg, start, end)
                assert list(on_duckdb.columns) == list(on_postgres.columns), name
                assert normal(on_duckdb) == normal(on_postgres), (name, start, end)
                assert len(on_duckdb), name
    finally:
        local.close()
        pg.close()
