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
from tests.conftest import ROOT, latest_report, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SAMPLE_TRUTH = json.loads((ROOT / "data_samples" / "bronze" / "_ground_truth.json").read_text())


def run_in_process(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """`ecomdwh run` (or `ecomdwh <args>`) through the CLI's entry point (what the console script calls) in this
    process, as it runs with `env` in a terminal 200 columns wide: its glue step takes the session's SparkSession
    instead of starting a JVM of its own. Returns the exit code and what it printed. (A run in a child process of
    its own, Spark and all, is test_faults_e2e's; the crash test in test_glue_bookmarks starts the Glue job's Spark
    in one.)"""
    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "argv", ["ecomdwh", *(args or ["run"])])
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
    # dbt's results in words; no dbt or Spark log line, no colour code, when the output is not a terminal.
    assert re.search(r"dbt build on local: \d+ data tests passed, \d+ models built, \d+ seeds loaded", out)
    assert "\x1b[" not in out
    assert not re.search(r"Running with dbt=|^\d\d:\d\d:\d\d +(ERROR|WARN|INFO|Found \d+ models)", out, re.M)
    # The report paths whole, each on a line of its own after the summary table.
    assert re.search(r"^reconcile report: \S+/reconcile\.html$", out, re.M)
    assert re.search(r"^analytics report: \S+/analytics\.html$", out, re.M)

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
    first_id, second_id = (re.search(r"run (\S+) recorded in the local warehouse", o)[1] for o in (out, again))
    assert first_id < second_id
    folder = latest_report(reports, "reconcile", last_day)
    assert folder.name == second_id
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["passed"] is True and summary["run_date"] == last_day
    assert (folder / "reconcile.html").stat().st_size > 10_000
    assert f"reconcile/{last_day}/{second_id}/reconcile.html" in again.replace("\n", "")
    # Each run keeps its own reports; the `latest` pointers name the second.
    for kind in ("reconcile", "analytics"):
        day_folder = reports / kind / last_day
        assert sorted(p.name for p in day_folder.iterdir() if p.is_dir() and not p.is_symlink()) == [
            first_id,
            second_id,
        ]
        assert (day_folder / first_id / f"{kind}.html").exists() and (day_folder / second_id / f"{kind}.html").exists()
        assert (day_folder / "LATEST").read_text().strip() == second_id
        assert (day_folder / "latest").resolve() == (day_folder / second_id).resolve()
    check_history(warehouse, first_id, second_id, last_day)

    # The trends report on the two runs: what changed is the second run's Glue batch, which read nothing new.
    code, trends_out = run_in_process(env, monkeypatch, capsys, "report", "trends", "--date", last_day)
    assert code == 0, trends_out
    trends = json.loads((latest_report(reports, "trends", last_day) / "summary.json").read_text())
    assert trends["runs"] == 2 and trends["latest"]["run_id"] == second_id
    changes = trends["changes"]
    assert (changes["previous_run"], changes["latest_run"]) == (first_id, second_id)
    read = {row["entity"]: row for row in changes["rows"] if row["metric"] == "glue.rows_read"}
    assert {e: (r["previous"], r["latest"]) for e, r in read.items()} == {
        e: (t["rows"], 0) for e, t in SAMPLE_TRUTH["totals"].items()
    }
    assert not [row for row in changes["rows"] if row["metric"].startswith("layer.")]  # the warehouse is the same
    assert changes["revenue"] == [] and changes["new_failures"] == [] and changes["fixed"] == []

    con = duckdb.connect(str(warehouse), read_only=True)
    facts, amount = con.execute("select count(*), sum(total_amount) from gold.fact_order_items").fetchone()
    assert facts == SAMPLE_TRUTH["totals"]["order_items"]["written"]
    assert str(amount) == SAMPLE_TRUTH["sums"]["order_items_line_amount"]


def test_run_failure_is_one_sentence_and_non_zero(tmp_path, emulator_env: dict[str, str]):
    (tmp_path / "shop" / "orders").mkdir(parents=True)
    (tmp_path / "shop" / "orders" / "orders.jsonl").write_text("{}\n")
    warehouse = tmp_path / "ecomdwh.duckdb"
    env = {**emulator_env, "ECOMDWH_ENV": "runbad", "COLUMNS": "200", "ECOMDWH_DUCKDB_PATH": str(warehouse)}
    result = run_cli("run", "--source", str(tmp_path), env=env)
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if line.startswith("Error:")] == [
        line for line in result.stdout.splitlines() if "Error: Step land failed: Refused to land 1 file(s)" in line
    ]
    assert "Traceback" not in result.stdout + result.stderr
    assert re.search(r"glue\s+│\s+skipped", result.stdout)

    # The failed run leaves its record: the failed step, and the steps it skipped.
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(run_id, status, verdict, message)] = con.execute(
            "select run_id, status, verdict, message from ops.runs"
        ).fetchall()
        steps = con.execute("select step, status from ops.run_steps order by step_order").fetchall()
    finally:
        con.close()
    assert f"run {run_id} recorded" in result.stdout
    assert (status, verdict) == ("failed", None) and message.startswith("Step land failed: Refused to land 1 file(s)")
    assert steps == [("land", "failed")] + [(step, "skipped") for step in STEP_NAMES[1:]]


def check_history(warehouse, first_id: str, second_id: str, last_day: str) -> None:
    """Two runs, two records: every step ok, the reconciliation passed, and what each run's Glue jobs read."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = con.execute("select run_id, kind, cast(run_date as varchar), target, status, verdict from ops.runs")
        assert sorted(runs.fetchall()) == [(i, "run", last_day, "local", "ok", "passed") for i in (first_id, second_id)]
        steps = con.execute("select run_id, step, status from ops.run_steps order by run_id, step_order").fetchall()
        assert steps == [(i, step, "ok") for i in (first_id, second_id) for step in STEP_NAMES]
        metric = "select run_id, sum(value) from ops.run_metrics where metric = ? and detail = ? group by 1 order by 1"
        read = sum(t["rows"] for t in SAMPLE_TRUTH["totals"].values())
        assert con.execute(metric, ["glue.rows_read", ""]).fetchall() == [(first_id, read), (second_id, 0)]
        quarantined = sum(sum(t["quarantined"].values()) for t in SAMPLE_TRUTH["totals"].values())
        assert con.execute(metric, ["glue.rows_quarantined", "total"]).fetchall()[0] == (first_id, quarantined)
        gold = SAMPLE_TRUTH["totals"]["order_items"]["written"]
        assert con.execute(metric, ["layer.gold_rows", ""]).fetchall() == [(first_id, gold), (second_id, gold)]
        passed = con.execute(metric, ["dbt_tests", "pass"]).fetchall()
        assert [i for i, _ in passed] == [first_id, second_id] and all(n > 0 for _, n in passed)
        shares = con.execute("select count(*) from ops.run_metrics where metric = 'unknown_member_share'").fetchone()
        assert shares[0] > 0
    finally:
        con.close()
