"""What the analytics module runs over the dbt reporting models, without a warehouse: each query reads one model
the dbt project builds, binds its dates as parameters and parses as Redshift and PostgreSQL SQL with known
functions only. The measures' logic is tested by the models' dbt unit tests (dbt/models/reporting/*.yml), and
the functions on a pipeline-built warehouse by tests/integration/test_analytics_report.py."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
import sqlglot
import yaml
from sqlglot import exp

from ecomdwh import analytics, relations
from ecomdwh.settings import get_settings

# What the queries may call: functions sqlglot knows that PostgreSQL, Redshift and DuckDB all have.
PORTABLE_FUNCTIONS = {"And", "Or", "Sum", "Count", "Min", "Max", "Cast", "Coalesce", "Case", "If"}
READS = re.compile(r"\bfrom\s+(\w+)\.(\w+)", re.I)


@pytest.mark.parametrize("name", sorted(analytics.ANALYSES))
def test_every_query_parses_as_redshift_with_known_functions_only(name):
    sql = analytics.ANALYSES[name]
    assert "{" not in sql and "%" not in sql  # no templating left; '%' would clash with the drivers' '%s'
    for dialect, text in (("duckdb", sql), ("redshift", sql.replace("?", "%s")), ("postgres", sql.replace("?", "%s"))):
        tree = sqlglot.parse_one(text, read=dialect)
        anonymous = [f.sql(dialect) for f in tree.find_all(exp.Anonymous)]
        assert not anonymous, f"{name} calls functions sqlglot does not know: {anonymous}"
        functions = {type(f).__name__ for f in tree.find_all(exp.Func)}
        assert functions <= PORTABLE_FUNCTIONS, f"{name} uses {functions - PORTABLE_FUNCTIONS}"


@pytest.mark.parametrize("name", sorted(analytics.ANALYSES))
def test_every_query_reads_one_reporting_model_of_the_dbt_project(name):
    read = {f"{schema}.{table}" for schema, table in READS.findall(analytics.ANALYSES[name])}
    models = {r.split(".")[1] for r in read if r.startswith(f"{analytics.REPORTING_SCHEMA}.")}
    assert len(models) == 1 and read == {relations.ref(m) for m in models}, read
    assert models <= set(analytics.REPORTING_MODELS)


def test_the_reporting_models_are_the_dbt_folder_and_each_has_its_yaml():
    folder = get_settings().dbt_dir / "models" / "reporting"
    assert {p.stem for p in folder.glob("*.sql")} == set(analytics.REPORTING_MODELS)
    for model in analytics.REPORTING_MODELS:
        assert relations.ref(model) == f"{analytics.REPORTING_SCHEMA}.{model}"
        (entry,) = yaml.safe_load((folder / f"{model}.yml").read_text())["models"]
        assert entry["name"] == model and entry["description"]
        assert entry["columns"] and all(c.get("description") for c in entry["columns"]), model
    # The exploring helpers name gold and data-quality tables as the dbt project does.
    for table in analytics.GOLD_TABLES + analytics.DATA_QUALITY_TABLES:
        assert analytics._gold_table(table) == relations.ref(table)
    with pytest.raises(ValueError, match="not a gold or data-quality table"):
        analytics.sample_rows(None, "silver.orders")


def test_a_date_range_is_bound_as_dates_and_a_bad_day_is_refused():
    assert analytics.date_range() == [None] * 4
    assert analytics.date_range("2026-03-01", date(2026, 3, 14)) == [date(2026, 3, 1)] * 2 + [date(2026, 3, 14)] * 2
    assert analytics.date_range(datetime(2026, 3, 1, 12), None) == [date(2026, 3, 1)] * 2 + [None] * 2
    for bad in ("2026-02-30", "03/01/2026", "2026-03-01; drop table x"):
        with pytest.raises(ValueError):
            analytics.date_range(bad)
    with pytest.raises(ValueError, match="period"):
        analytics.cohort_retention(None, period="day")


def test_the_range_filter_keeps_unknown_days_only_without_a_range():
    con = duckdb.connect()
    days = "(date '2026-03-01'), (date '2026-03-02'), (null)"
    con.execute(f"create table t as select * from (values {days}) as v(order_date)")
    count = f"select count(*) as n from t where {analytics.IN_RANGE}"
    assert analytics.query(con, count, analytics.date_range()).loc[0, "n"] == 3
    assert analytics.query(con, count, analytics.date_range("2026-03-02")).loc[0, "n"] == 1
    assert analytics.query(con, count, analytics.date_range(None, "2026-03-01")).loc[0, "n"] == 1
    assert analytics.query(con, count, analytics.date_range("2026-03-01", "2026-03-02")).loc[0, "n"] == 2


def test_cohort_period_and_the_retention_matrix():
    assert analytics.cohort_period("2026-01-05", "2026-03-04") == "month"
    assert analytics.cohort_period("2026-03-01", "2026-03-14") == "week"
    cohorts = pd.DataFrame(
        {
            "cohort_start": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 1)],
            "periods_since_first": [0, 2, 0],
            "retention": [1.0, 0.5, 1.0],
        }
    )
    matrix = analytics.retention_matrix(cohorts)
    assert matrix.loc["2026-01-01"].tolist() == [1.0, 0.5] and matrix.loc["2026-03-01", 0] == 1.0
    assert analytics.retention_matrix(cohorts.iloc[0:0]).empty


def test_write_summary_only_in_a_report_run(tmp_path):
    values = {"revenue": 110.5, "months": ["2026-03"], "start_date": None}
    assert analytics.write_summary(None, values) is None
    path = analytics.write_summary(tmp_path / "report", values)
    assert path.name == "summary.json" and json.loads(path.read_text()) == values
