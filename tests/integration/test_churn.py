"""Churn prediction on worlds with a known churn process: the dbt feature model uses nothing at or after its
cutoff, the models find the signal the generator planted, and `ecomdwh report churn` writes its report and
the scores table.

The churn worlds skip Glue: the simulated tables go straight into a DuckDB `silver` schema (the contract's
columns, the cleaning the Glue job does to the one field that needs it), and dbt builds the feature model
and the staging views it reads. The report runs on the session's pipeline-built gold.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ecomdwh import churn, dbt_runner
from ecomdwh.contract import ENTITIES
from ecomdwh.generator.world import ChurnProcess, World, simulate
from ecomdwh.settings import Settings, load_settings
from ecomdwh.warehouse import read_sql, schema
from ecomdwh.warehouse.connection import connect
from tests.conftest import latest_report, run_cli

pytestmark = [pytest.mark.integration]

START = date(2025, 6, 1)
DAYS = 240
ORDERS_PER_DAY = 30
WINDOW_DAYS = 28
CUTOFFS = 6
LAST_CUTOFF = START + timedelta(days=DAYS)
TIMESTAMPS = {"order_ts", "updated_at", "paid_at", "status_ts"}
# When each entity's row happened, for dropping what came at or after a cutoff.
EVENT_TIME = {"customers": "updated_at", "orders": "updated_at", "payments": "paid_at",
              "shipment_events": "status_ts", "products": "updated_at"}  # fmt: skip


def silver_frames(world: World) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, entity in ENTITIES.items():
        table = world.tables[name]
        frame = pd.DataFrame({c: table.columns[c] for c in entity.column_names})
        for column in TIMESTAMPS & set(frame.columns):
            frame[column] = pd.to_datetime(frame[column].str.rstrip("Z"))
        frame["ingest_date"] = pd.to_datetime([world.start + timedelta(days=int(d)) for d in table.day])
        frames[name] = frame
    # The Glue job's cleaning of the one field the features read: canonical shipment statuses.
    events = frames["shipment_events"]
    events["status"] = events["status"].str.lower().str.replace("-", "_")
    return frames


def before(frames: dict[str, pd.DataFrame], cutoff: date) -> dict[str, pd.DataFrame]:
    """Only what happened before `cutoff`: each row by its event time, order items with their orders."""
    at = pd.Timestamp(cutoff)
    kept = {name: frame[frame[EVENT_TIME[name]] < at] for name, frame in frames.items() if name in EVENT_TIME}
    placed = frames["orders"].loc[frames["orders"]["order_ts"] < at, "order_id"]
    kept["orders"] = kept["orders"][kept["orders"]["order_id"].isin(placed)]
    kept["order_items"] = frames["order_items"][frames["order_items"]["order_id"].isin(placed)]
    return kept


def load_silver(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in schema.ddl():
            con.execute(statement)
        for name, entity in ENTITIES.items():
            frame = frames[name].reset_index(drop=True)
            con.register("batch", frame)
            contract = ", ".join(f"cast(batch.{c} as {t})" for c, t in schema.columns(entity)[: len(entity.columns)])
            con.execute(
                f"insert into silver.{name} select {contract}, 'world' as source_file, 0 as source_line, "
                "cast(batch.ingest_date as date), 'r1', current_timestamp, "
                f"md5(concat_ws('|', {', '.join(f'batch.{c}' for c in entity.column_names)})) from batch"
            )
            con.unregister("batch")
    finally:
        con.close()


def build_features(settings: Settings, path: Path, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    load_silver(path, frames)
    built = settings.with_overrides(duckdb_path=path)
    variables = {"churn_window_days": WINDOW_DAYS, "churn_cutoffs": CUTOFFS, "churn_last_cutoff": str(LAST_CUTOFF)}
    dbt_runner.build(
        built,
        "local",
        ["-s", "+ml_customer_churn_features", "--indirect-selection", "cautious", "--vars", json.dumps(variables)],
    )
    con = duckdb.connect(str(path), read_only=True)
    try:
        return churn.typed(con.execute("select * from ml.ml_customer_churn_features").df())
    finally:
        con.close()


@pytest.fixture(scope="module")
def churn_world(tmp_path_factory: pytest.TempPathFactory):
    world = simulate(np.random.default_rng(2), START, DAYS, ORDERS_PER_DAY, ChurnProcess())
    frames = silver_frames(world)
    folder = tmp_path_factory.mktemp("churn-world")
    # DuckDB and dbt only: no emulator (the settings' S3 endpoint is never reached).
    settings = load_settings(dict(os.environ))
    return world, frames, build_features(settings, folder / "full.duckdb", frames), folder, settings


@pytest.mark.slow
def test_features_use_nothing_at_or_after_their_cutoff(churn_world):
    world, frames, full, folder, settings = churn_world
    cutoffs = sorted(full["cutoff_date"].unique())
    cutoff = cutoffs[-3]  # later cutoffs and every label window reach past it
    truncated = build_features(settings, folder / "truncated.duckdb", before(frames, cutoff))
    features = ["customer_id", "cutoff_date", *churn.FEATURES]
    mine = lambda f: f.loc[f["cutoff_date"] <= cutoff, features].reset_index(drop=True)  # noqa: E731
    assert len(mine(full)) > 1000
    # Everything after the cutoff is gone, and it was there to leak: orders, deliveries, returns.
    assert (frames["orders"]["order_ts"] >= pd.Timestamp(cutoff)).sum() > 1000
    pd.testing.assert_frame_equal(mine(truncated), mine(full))
    # Only the labels may differ: the truncated world cannot see their windows.
    assert not truncated.loc[truncated["cutoff_date"] == cutoff, "is_labelled"].any()


@pytest.mark.slow
def test_the_models_find_the_planted_signal(churn_world):
    world, frames, full, *_ = churn_world
    result = churn.run(full)
    metrics = result.metrics.set_index("model")
    auc = metrics["roc_auc"]
    # Held-out and later than every training cutoff.
    assert (
        min(result.split.train["cutoff_date"])
        < max(result.split.train["cutoff_date"])
        < result.split.test["cutoff_date"].iloc[0]
    )
    for name in churn.MODELS:
        assert auc[name] > 0.6, metrics
        assert auc[name] >= auc[churn.BASELINE] - 0.02, metrics
        assert metrics.loc[name, "precision_top_decile"] > metrics.loc[name, "churn_rate"], metrics
    # Against the generator's truth: customers who had truly churned by the held-out cutoff's window end
    # score higher than those who had not.
    from sklearn.metrics import roc_auc_score

    test = result.split.test
    end = (pd.Timestamp(test["cutoff_date"].iloc[0]) + pd.Timedelta(days=WINDOW_DAYS)).date()
    truth = world.churn
    index = {c: i for i, c in enumerate(truth.customer_ids)}
    churned = truth.churned_by((end - START).days)[[index[c] for c in test["customer_id"]]]
    assert 0 < churned.mean() < 1
    assert roc_auc_score(churned, result.test_scores[result.chosen]) > 0.6
    # The planted drivers: the logistic regression gives bad experiences a positive weight.
    coefficients = result.coefficients.set_index("feature")["coefficient"]
    assert coefficients[["late_deliveries", "lost_shipments", "returned_orders", "cancelled_orders"]].sum() > 0
    # Calibration on held-out data: the riskiest tenth churns more than the safest tenth.
    table = result.calibration[result.calibration["model"] == "logistic regression"]
    assert table["observed_rate"].iloc[-1] > table["observed_rate"].iloc[0]


@pytest.mark.slow
def test_report_churn_writes_the_report_and_the_scores(small_gold, tmp_path: Path):
    settings, _ = small_gold
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, warehouse)
    mine = settings.with_overrides(duckdb_path=warehouse)
    # Three landing days: a one-day window gives two labelled cutoffs (train, test) and one to score.
    variables = json.dumps({"churn_window_days": 1, "churn_cutoffs": 3})
    dbt_runner.build(mine, "local", ["-s", "ml_customer_churn_features", "--vars", variables])
    reports = tmp_path / "reports"
    env = {"ECOMDWH_DUCKDB_PATH": str(warehouse), "ECOMDWH_REPORTS_DIR": str(reports), "ECOMDWH_TARGET": "local",
           "ECOMDWH_STATE_DIR": str(tmp_path / "state")}  # fmt: skip
    done = run_cli("report", "churn", "--date", "2026-03-04", env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    folder = latest_report(reports, "churn", "2026-03-04")
    summary = json.loads((folder / "summary.json").read_text())
    assert (folder / "churn.html").exists()
    assert set(summary["metrics"]) == {churn.BASELINE, *churn.MODELS}
    assert summary["test_cutoff"] > max(summary["train_cutoffs"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        features = con.execute(
            "select customer_id from ml.ml_customer_churn_features where cutoff_index = 0 order by 1"
        ).fetchall()
        scores = con.execute(
            "select customer_id, churn_probability, risk_decile from ml.customer_churn_scores order by 1"
        ).fetchall()
    finally:
        con.close()
    assert [c for c, *_ in scores] == [c for (c,) in features]
    assert summary["scored_customers"] == len(scores) > 0
    assert all(0 <= p <= 1 and 1 <= d <= 10 for _, p, d in scores)


def test_scores_replace_the_table_on_postgresql(pg_db: dict):
    settings = load_settings(dict(os.environ)).with_overrides(pg=pg_db)
    first = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "cutoff_date": [date(2026, 3, 1)] * 3,
                          "churn_probability": [0.9, 0.5, 0.1], "risk_decile": [1, 5, 10], "model": "m"})  # fmt: skip
    relation = churn.write_scores(settings, "pg", first)
    churn.write_scores(settings, "pg", first.iloc[:2])
    con = connect(settings, "pg")
    try:
        rows = read_sql(con, f"select customer_id, churn_probability, risk_decile from {relation} order by 1")
    finally:
        con.close()
    assert rows["customer_id"].tolist() == ["C1", "C2"]  # replaced, not appended
    assert rows["churn_probability"].tolist() == [0.9, 0.5] and rows["risk_decile"].tolist() == [1, 5]
