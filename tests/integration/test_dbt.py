"""The dbt project on real engines: DuckDB and a PostgreSQL server agree, incremental equals full refresh,
and the Redshift compile works offline and parses as Redshift SQL."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from ecomdwh import dbt_runner, relations
from ecomdwh.settings import Settings
from ecomdwh.warehouse.connection import connect
from ecomdwh.warehouse.load import load
from tests.conftest import DailyGold

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOLD = ["dim_customers", "dim_products", "dim_date", "dim_payment_methods", "dim_shipment_status",
        "fact_order_items", "unknown_member_counts"]  # fmt: skip
# What the reports read (dbt/models/reporting): built from gold, so equal wherever gold is.
REPORTING = ["rpt_daily_revenue", "rpt_customer_days", "rpt_product_days", "rpt_category_days",
             "rpt_payment_method_days", "rpt_shipment_status_days", "rpt_cohort_activity",
             "rpt_order_item_details"]  # fmt: skip
RUN_METADATA = {"source_loaded_at"}  # when rows arrived, not what they say


def gold_rows(con, relation: str) -> list[tuple]:
    cur = con.cursor()
    cur.execute(f"select * from {relation}")
    names = [d[0] for d in cur.description]
    keep = [i for i, n in enumerate(names) if n not in RUN_METADATA]
    normal = lambda v: str(v.quantize(Decimal("0.01"))) if isinstance(v, Decimal) else str(v)  # noqa: E731
    return sorted(tuple(normal(row[i]) for i in keep) for row in cur.fetchall())


def gold(settings: Settings, target: str) -> dict[str, list[tuple]]:
    con = connect(settings, target)
    try:
        # gold's tables, data_quality's unknown_member_counts and the reporting models: where dbt puts each.
        return {t: gold_rows(con, relations.ref(t, settings.dbt_dir)) for t in GOLD + REPORTING}
    finally:
        con.close()


@dataclass(frozen=True)
class OneGo:
    """The session's lake loaded in one go into a new DuckDB file and built there from nothing."""

    settings: Settings
    loaded: dict  # what the load loaded, per entity
    summary: Counter[str]  # the build's results in counts
    unit_tests: list[dict]  # the build's unit-test results


@pytest.fixture(scope="module")
def one_go(daily_gold: DailyGold, tmp_path_factory: pytest.TempPathFactory) -> OneGo:
    """One full refresh, unit tests included, that both comparisons read: against PostgreSQL built the same way,
    and against the day-by-day builds."""
    local = daily_gold.settings.with_overrides(duckdb_path=tmp_path_factory.mktemp("one-go") / "warehouse.duckdb")
    loaded = load(local, "local").loaded
    summary = dbt_runner.build(local, "local", ["--full-refresh"], unit_tests=True)
    unit_tests = [r for r in dbt_runner.run_results(local) if r["unique_id"].startswith("unit_test.")]
    return OneGo(local, loaded, summary, unit_tests)


def test_gold_on_duckdb_equals_gold_on_postgresql(daily_gold: DailyGold, one_go: OneGo, pg_db: dict):
    # The session's lake, loaded in one go into the new DuckDB file (one_go) and a new PostgreSQL database.
    local, summary, unit_tests = one_go.settings, one_go.summary, one_go.unit_tests
    pg = daily_gold.settings.with_overrides(pg=pg_db)
    assert load(pg, "pg").loaded == one_go.loaded
    assert not load(local, "local").loaded and not load(pg, "pg").loaded  # loading twice loads nothing
    assert len(unit_tests) >= 5 and {r["status"] for r in unit_tests} == {"pass"}
    assert dbt_runner.build(pg, "pg", unit_tests=True) == summary
    dbt_runner.build(pg, "pg")  # an incremental build with nothing new: the merges run on PostgreSQL too
    # Freshness of silver (loaded_at) works offline on a built warehouse (dbt's docs and catalog: test_docs_site).
    freshness = dbt_runner.run_dbt(local, ["source", "freshness"], "local", capture=True)
    assert freshness.returncode == 0, freshness.stdout[-2000:]
    sources = json.loads((local.dbt_target_path / "sources.json").read_text())["results"]
    assert sorted(s["status"] for s in sources) == ["pass"] * 6
    on_duckdb, on_postgres = gold(local, "local"), gold(pg, "pg")
    for table in GOLD + REPORTING:
        assert on_duckdb[table] == on_postgres[table], table
        assert on_duckdb[table], table
    assert len(on_duckdb["fact_order_items"]) > 500
    assert {r["unique_id"] for r in unit_tests} >= {f"unit_test.ecomdwh.{m}.{t}" for m, t in REPORTING_UNIT_TESTS}


REPORTING_UNIT_TESTS = [
    ("rpt_customer_days", "customer_days_span_versions_and_keep_the_unknown_member"),
    ("rpt_cohort_activity", "cohort_periods_are_calendar_months_and_monday_weeks"),
    ("rpt_shipment_status_days", "shipment_status_days_count_orders_and_number_days"),
]


def test_day_by_day_incremental_equals_one_full_refresh(daily_gold: DailyGold, one_go: OneGo):
    # daily_gold (tests/conftest.py) landed, processed, loaded and built one day at a time on DuckDB, and on
    # PostgreSQL from the second day (a full build, then an incremental one); before its last DuckDB build it
    # kept a copy of the warehouse, on which it replayed that build's compiled SQL: the benchmark's "same SQL
    # without dbt" gives dbt's gold.
    daily = daily_gold.settings
    results = daily_gold.last_results
    assert any(r["unique_id"] == "model.ecomdwh.fact_order_items" for r in results)
    assert not any(r["unique_id"].startswith("unit_test.") for r in results)  # a pipeline build leaves them to CI
    replayed = gold(daily.with_overrides(duckdb_path=daily_gold.replayed), "local")
    incremental, refreshed = gold(daily, "local"), gold(one_go.settings, "local")
    on_postgres = gold(daily, "pg")
    for table in GOLD + REPORTING:
        assert incremental[table] == refreshed[table], table
        assert replayed[table] == incremental[table], table
        assert on_postgres[table] == incremental[table], table


# Functions the Redshift compile may use: what sqlglot recognises and Redshift has.
REDSHIFT_FUNCTIONS = {
    "And", "Or", "Case", "If", "Cast", "Coalesce", "Count", "Extract", "Greatest", "Lead", "MD5",
    "Max", "Min", "Pad", "RowNumber", "Sum", "TsOrDsAdd", "TsOrDsDiff", "Concat", "DPipe", "TimestampTrunc",
}  # fmt: skip


def test_redshift_compile_works_offline_and_parses_as_redshift(session_settings: Settings, tmp_path: Path):
    # A closed local port: proof that nothing needs a Redshift server.
    settings = session_settings.with_overrides(redshift={"host": "127.0.0.1", "port": "1"})
    # Its own target path: what other dbt commands left in dbt/target (an inline `dbt show`) is not read.
    args = ["--no-populate-cache", "compile", "--target-path", str(tmp_path / "target")]
    result = dbt_runner.run_dbt(settings, [*args, "--vars", "{offline_compile: true}"], "redshift", capture=True)
    assert result.returncode == 0, result.stdout[-2000:]
    compiled = sorted(p for p in (tmp_path / "target/compiled/ecomdwh").rglob("*.sql") if p.is_file())
    assert len(compiled) > 20
    # The reporting models too: what the analytics reports read.
    assert {f"{m}.sql" for m in REPORTING} <= {p.name for p in compiled}
    for path in compiled:
        for tree in sqlglot.parse(path.read_text(), read="redshift"):
            unknown = {n.name for n in tree.find_all(exp.Anonymous)}
            assert not unknown, f"{path.name}: functions sqlglot does not know as Redshift: {unknown}"
            used = {type(n).__name__ for n in tree.find_all(exp.Func)}
            assert used <= REDSHIFT_FUNCTIONS, f"{path.name}: {used - REDSHIFT_FUNCTIONS}"


def test_redshift_physical_design_is_set_where_intended(session_settings: Settings):
    result = dbt_runner.run_dbt(session_settings, ["parse"], "local", capture=True)
    assert result.returncode == 0, result.stdout[-2000:]
    nodes = json.loads((session_settings.dbt_target_path / "manifest.json").read_text())["nodes"]
    config = {n["name"]: n["config"] for n in nodes.values() if n["resource_type"] == "model"}
    assert config["fact_order_items"]["dist"] == "order_id"
    assert config["fact_order_items"]["sort"] == ["order_date_key"]
    for dim in ("dim_customers", "dim_products", "dim_date", "dim_payment_methods", "dim_shipment_status"):
        assert config[dim]["dist"] == "all", dim


def test_dbt_connections_have_the_profiles_duckdb_settings(session_settings: Settings, tmp_path: Path):
    # The benchmark's replay sets the same ones: dbt and the replay must run the SQL alike.
    settings = session_settings.with_overrides(duckdb_path=tmp_path / "settings.duckdb")
    wanted = dbt_runner.duckdb_settings(settings)
    assert wanted["disabled_optimizers"] == "compressed_materialization"
    query = "select " + ", ".join(f"current_setting('{name}') as {name}" for name in wanted)
    result = dbt_runner.run_dbt(settings, ["show", "--quiet", "--inline", query, "--output", "json"], "local", True)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["show"] == [wanted]  # one dbt start for all of them
