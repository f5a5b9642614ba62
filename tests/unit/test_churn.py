"""The generator's churn process and the churn module's pieces, without a warehouse."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecomdwh import churn
from ecomdwh.errors import UserError
from ecomdwh.generator import ChurnProcess, generate
from ecomdwh.generator.world import simulate

START = date(2025, 6, 1)


@pytest.fixture(scope="module")
def world():
    return simulate(np.random.default_rng(4), START, 150, 25, ChurnProcess())


def placed_orders(world) -> pd.DataFrame:
    table = world.tables["orders"].columns
    first = pd.DataFrame({"order_id": table["order_id"], "customer_id": table["customer_id"],
                          "order_ts": pd.to_datetime(pd.Series(table["order_ts"]).str.rstrip("Z"))})  # fmt: skip
    return first.drop_duplicates("order_id")


def test_a_churned_customer_never_orders_again(world):
    truth = world.churn
    churn_day = dict(zip(truth.customer_ids, truth.churn_day, strict=True))
    orders = placed_orders(world)
    day = (orders["order_ts"] - pd.Timestamp(START)).dt.days
    churned_on = orders["customer_id"].map(churn_day)
    assert (churned_on >= 0).any() and (churned_on < 0).any()
    assert not ((churned_on >= 0) & (day >= churned_on)).any()
    # And they had ordered before: churn is a stop, not a never-start.
    assert orders["customer_id"].isin(truth.customer_ids[truth.churn_day >= 0]).any()


def test_churn_worlds_have_declined_payments_before_the_ones_that_went_through(world):
    table = world.tables["payments"].columns
    payments = pd.DataFrame({c: table[c] for c in ("order_id", "status", "paid_at")})
    failed = payments[payments["status"] == "failed"]
    assert len(failed) > 0
    passed = payments[payments["status"] != "failed"].groupby("order_id")["paid_at"].min()
    assert failed["order_id"].isin(passed.index).all()
    assert (failed["paid_at"].to_numpy() < passed[failed["order_id"]].to_numpy()).all()  # ISO strings sort as times


def test_bad_experiences_raise_the_churn_hazard(world):
    truth = world.churn
    churned = truth.churn_day >= 0
    none, some = truth.bad_events == 0, truth.bad_events >= 2
    assert churned[some].mean() > churned[none].mean()


def test_without_the_process_nobody_churns_and_the_truth_says_nothing(tmp_path: Path):
    plain = simulate(np.random.default_rng(4), START, 5, 20)
    assert plain.churn is None and "failed" not in plain.tables["payments"].columns["status"]
    truth = generate(tmp_path / "plain", days=3, orders_per_day=20, seed=3, bad_rate=0)
    assert "churn" not in truth
    truth = generate(tmp_path / "churn", days=60, orders_per_day=20, seed=3, bad_rate=0, churn=ChurnProcess())
    written = json.loads((tmp_path / "churn" / "_ground_truth.json").read_text())
    assert written["churn"] == truth["churn"] and truth["churn"]
    assert all(START.isoformat() < d for d in truth["churn"].values())


def test_precision_at_top_decile_and_calibration():
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1] * 10, dtype=float)
    scores = np.arange(100, dtype=float) / 100  # every tenth customer churns, scores rise with the index
    assert churn.precision_at_top(y, scores) == y[np.argsort(-scores)[:10]].mean()
    assert churn.precision_at_top(y, y) == 1.0
    table = churn.calibration_table(y, scores)
    assert table["customers"].sum() == 100 and len(table) == 10
    assert table["mean_predicted"].is_monotonic_increasing


def features(cutoffs: list[str], labelled: list[bool], churned: list[float]) -> pd.DataFrame:
    rows = []
    for cutoff, is_labelled in zip(cutoffs, labelled, strict=True):
        for i, label in enumerate(churned):
            row = {name: float(i) for name in churn.NUMERIC}
            row |= {"customer_id": f"C{i}", "cutoff_date": cutoff, "segment": "consumer",
                    "is_labelled": is_labelled, "is_churned": label if is_labelled else None}  # fmt: skip
            rows.append(row)
    return churn.typed(pd.DataFrame(rows))


def test_the_split_is_by_time_and_refuses_what_cannot_be_split():
    frame = features(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"], [True, True, True, False],
                     [0.0, 1.0, 0.0, 1.0])  # fmt: skip
    parts = churn.split(frame)
    assert set(parts.train["cutoff_date"].astype(str)) == {"2026-01-01", "2026-02-01"}
    assert set(parts.test["cutoff_date"].astype(str)) == {"2026-03-01"}
    assert set(parts.score["cutoff_date"].astype(str)) == {"2026-04-01"}
    with pytest.raises(UserError, match="two"):
        churn.split(features(["2026-01-01", "2026-02-01"], [True, False], [0.0, 1.0]))
    with pytest.raises(UserError, match="one class"):
        churn.split(features(["2026-01-01", "2026-02-01", "2026-03-01"], [True, True, False], [1.0, 1.0]))


def test_a_warehouse_without_the_features_is_told_how_to_build_them():
    import duckdb

    con = duckdb.connect()
    try:
        with pytest.raises(UserError, match="dbt build -s"):
            churn.read_features(con)
    finally:
        con.close()


def test_generate_churn_on_the_command_line(tmp_path: Path, cli_in_process):
    from tests.conftest import scratch_env

    main = cli_in_process(scratch_env(tmp_path, "churncli"))
    code, out = main("generate", "--out", str(tmp_path / "bronze"), "--days", "40", "--orders-per-day", "10",
                     "--bad-rate", "0", "--churn")  # fmt: skip
    assert code == 0, out
    truth = json.loads((tmp_path / "bronze" / "_ground_truth.json").read_text())
    assert truth["churn"] and truth["generator"]["days"] == 40
