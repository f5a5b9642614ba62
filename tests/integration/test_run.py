"""`ecomdwh run`, the main job, through the CLI's entry point as a user runs it: on the committed sample, against
the real emulator."""

from __future__ import annotations

import json
import re
import sys

import duckdb
import pytest
from rich.console import Console

from ecomdwh import cli
from ecomdwh.pipeline import STEP_NAMES
from ecomdwh.settings import Settings, get_settings
from glue_local.etl import silver_store
from tests.conftest import ROOT, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SAMPLE_TRUTH = json.loads((ROOT / "data_samples" / "bronze" / "_ground_truth.json").read_text())


def run_in_process(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`ecomdwh run` through the CLI's entry point (what the console script calls) in this process, as it runs with
    `env` in a terminal 200 columns wide: its glue step takes the session's SparkSession instead of starting a JVM of
    its own. Returns the exit code and what it printed. (A run in a child process of its own, Spark and all, is
    test_faults_e2e's; the crash test in test_glue_bookmarks starts the Glue job's Spark in one.)"""
    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "argv", ["ecomdwh", "run"])
        patch.setattr(cli, "console", Console(markup=False, width=200))
        get_settings.cache_clear()
        capsys.readouterr()
        try:
            with pytest.raises(SystemExit) as exited:
                cli.main()
        finally:
            get_settings.cache_clear()
    out = capsys.readouterr()
    return exited.value.code, out.out + out.err


def test_run_lands_the_sample_and_reports_each_step_truthfully(
    spark, session_settings: Settings, emulator_env: dict[str, str], tmp_path, monkeypatch, capsys
):
    warehouse = tmp_path / "ecomdwh.duckdb"
    reports = tmp_path / "reports"
    env = {**emulator_env, "ECOMDWH_ENV": "runsample", "COLUMNS": "200", "ECOMDWH_DUCKDB_PATH": str(warehouse)}
    env["ECOMDWH_REPORTS_DIR"] = str(reports)
    code, out = run_in_process(env, monkeypatch, capsys)
    assert code == 0, out
    days = len(SAMPLE_TRUTH["days"])
    assert f"{days} landing day(s)" in out
    files = sum(len(e["files"]) for entities in SAMPLE_TRUTH["days"].values() for e in entities.values())
    assert f"{files} file(s) uploaded, 0 already landed" in out
    for step in STEP_NAMES:
        assert re.search(rf"{step}\s+│\s+ok", out), step
    written = sum(t["written"] for t in SAMPLE_TRUTH["totals"].values())
    assert f"{written} new silver row(s)" in out
    assert re.search(r"dbt build on local: \d+ pass", out)

    settings = session_settings.with_overrides(env="runsample")
    for entity, totals in SAMPLE_TRUTH["totals"].items():
        [manifest] = silver_store.committed_manifests(spark, settings.staging_bucket, entity)
        counts = (manifest["rows_read"], manifest["rows_written"], manifest["rows_deduplicated"])
        assert counts == (totals["rows"], totals["written"], totals["duplicates"]), entity
        assert manifest["rows_quarantined"] == totals["quarantined"], entity

    code, again = run_in_process(env, monkeypatch, capsys)
    assert code == 0, again
    assert f"0 file(s) uploaded, {files} already landed" in again
    assert "0 rows read = 0 written" in again
    assert "0 new silver row(s)" in again

    # The run reports on its last landing day: reconciliation passed, analytics written.
    last_day = max(SAMPLE_TRUTH["days"])
    summary = json.loads((reports / "reconcile" / last_day / "summary.json").read_text())
    assert summary["passed"] is True and summary["run_date"] == last_day
    assert (reports / "reconcile" / last_day / "reconcile.html").stat().st_size > 10_000
    assert (reports / "analytics" / last_day / "analytics.html").exists()
    assert f"reconcile/{last_day}/reconcile.html" in out.replace("\n", "")

    con = duckdb.connect(str(warehouse), read_only=True)
    facts, amount = con.execute("select count(*), sum(total_amount) from gold.fact_order_items").fetchone()
    assert facts == SAMPLE_TRUTH["totals"]["order_items"]["written"]
    assert str(amount) == SAMPLE_TRUTH["sums"]["order_items_line_amount"]


def test_run_failure_is_one_sentence_and_non_zero(tmp_path, emulator_env: dict[str, str]):
    (tmp_path / "shop" / "orders").mkdir(parents=True)
    (tmp_path / "shop" / "orders" / "orders.jsonl").write_text("{}\n")
    result = run_cli("run", "--source", str(tmp_path), env={**emulator_env, "ECOMDWH_ENV": "runbad", "COLUMNS": "200"})
    assert result.returncode == 1
    assert "Error: Step land failed: Refused to land 1 file(s)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert re.search(r"glue\s+│\s+skipped", result.stdout)
