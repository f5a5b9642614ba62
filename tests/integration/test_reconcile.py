"""Reconciliation on a real pipeline output: the notebook passes on good data, and each kind of
corruption (a gold row deleted, an amount changed, a silver partition dropped) fails it with a
message that names the layer, the entity or day, and the difference; the report shows the dbt tests
of the last recorded build, and a failed one fails it too."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections import Counter
from datetime import date
from html import unescape
from pathlib import Path

import duckdb
import pytest

from ecomdwh import aws, lake, reconcile, run_history, run_ids
from ecomdwh.devtools import emulator
from ecomdwh.settings import Settings
from tests.conftest import ROOT, DailyGold, latest_report, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# Three landing days: the last day's orders, not yet paid, are a larger share than in a long history.
UNKNOWN_SHARE = "0.25"
SUITES = ROOT / "expectations" / "gx" / "expectations"
FIRST_FACT = "select order_item_id, ingest_date from gold.fact_order_items order by 1 limit 1"


@pytest.fixture(scope="module")
def built(small_gold: tuple[Settings, dict]) -> tuple[Settings, dict]:
    """The session's small pipeline-built warehouse and its ground truth (tests/conftest.py)."""
    return small_gold


def last_day(truth: dict) -> str:
    return max(truth["days"])


def copy_of(settings: Settings, tmp_path: Path) -> Settings:
    """The same lake with a private copy of the warehouse, to corrupt."""
    path = tmp_path / "corrupt.duckdb"
    shutil.copy(settings.warehouse_path, path)
    return settings.with_overrides(duckdb_path=path)


def copy_of_lake(settings: Settings, tmp_path: Path) -> Settings:
    """The same lake copied, every object, into the buckets of another env, with a private copy of the warehouse."""
    copy = copy_of(settings, tmp_path).with_overrides(env=f"t{uuid.uuid4().hex[:10]}")
    emulator.create_buckets(copy)
    s3 = aws.s3(settings)
    for source, target in zip(settings.buckets, copy.buckets, strict=True):
        for page in aws.list_pages(settings, source):
            for obj in page.get("Contents", []):
                s3.copy_object(Bucket=target, Key=obj["Key"], CopySource={"Bucket": source, "Key": obj["Key"]})
    return copy


def record_build(settings: Settings, results: list[dict]) -> str:
    """A run record in the warehouse's ops schema whose dbt build had these results; its run id."""
    now = run_ids.utcnow().isoformat()
    record = run_history.Record(
        run_id=run_ids.new_run_id(),
        kind="run",
        run_date="2026-03-02",
        target="local",
        env=settings.env,
        warehouse=run_history.warehouse_id(settings, "local"),
        started_at=now,
        finished_at=now,
        status="ok",
        verdict=None,
        message=None,
        metrics=run_history.dbt_metrics(results),
    )
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        run_history.write(con, record)
    finally:
        con.close()
    return record.run_id


def test_report_passes_on_good_data(built, daily_gold: DailyGold, emulator_env, tmp_path: Path):
    settings, truth = built
    day = last_day(truth)
    # A copy of the warehouse: the report appends its record to ops, and the session's warehouse is only read.
    copy = copy_of(settings, tmp_path)
    # The session's last dbt build, as `ecomdwh run` records it.
    build = record_build(copy, daily_gold.last_results)
    tests = Counter(r["status"] for r in daily_gold.last_results if r["unique_id"].startswith("test."))
    assert tests["pass"] > 50 and not tests["fail"] and not tests["error"]
    env = {**emulator_env, "ECOMDWH_ENV": settings.env, "ECOMDWH_DUCKDB_PATH": str(copy.warehouse_path)}
    env["ECOMDWH_REPORTS_DIR"] = str(tmp_path)
    result = run_cli("report", "reconcile", "--date", day, "--max-unknown-share", UNKNOWN_SHARE, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = latest_report(tmp_path, "reconcile", day)
    assert str(folder / "reconcile.html") in result.stdout.replace("\n", "")
    summary = json.loads((folder / "summary.json").read_text())

    # Its record: one step, the verdict and the counts it measured.
    con = duckdb.connect(str(copy.warehouse_path), read_only=True)
    try:
        runs = "select run_id, kind, run_date, status, verdict from ops.runs where kind = 'reconcile'"
        [run] = con.execute(runs).fetchall()
        steps = con.execute("select step, status from ops.run_steps").fetchall()
        gold = con.execute("select value from ops.run_metrics where metric = 'layer.gold_rows'").fetchall()
    finally:
        con.close()
    assert run == (folder.name, "reconcile", date.fromisoformat(day), "ok", "passed")
    assert steps == [("reconcile", "ok")]
    assert gold == [(truth["totals"]["order_items"]["written"],)]
    assert summary["passed"] is True and summary["failures"] == []
    expectations = sum(len(json.loads(p.read_text())["expectations"]) for p in SUITES.glob("*.json"))
    assert len(summary["checks"]) == expectations >= 13
    dbt = {"run_id": build, "run_date": "2026-03-02", "counts": dict(tests), "failed": [], "passed": True}
    assert summary["dbt_tests"] == dbt

    # The measured frames hold the generator's ground truth, layer by layer.
    counts = {row["entity"]: row for row in summary["frames"]["layer_counts"]}
    for entity, totals in truth["totals"].items():
        row = counts[entity]
        assert row["bronze_rows"] == row["rows_read"] == totals["rows"], entity
        assert row["silver_rows"] == row["warehouse_rows"] == totals["written"], entity
        assert row["quarantine_rows"] == sum(totals["quarantined"].values()), entity
        assert row["rows_deduplicated"] == totals["duplicates"], entity
    assert counts["order_items"]["gold_rows"] == truth["totals"]["order_items"]["written"]
    gold_total = sum(day["gold_amount"] for day in summary["frames"]["money"])
    assert f"{gold_total:.2f}" == truth["sums"]["order_items_line_amount"]

    html = (folder / "reconcile.html").read_text()
    assert html.count("data:image/png;base64") >= 2  # the layer chart and the money chart, inline
    assert '<script src="http' not in html
    assert (folder / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
    assert (folder / "reconcile.ipynb").exists()
    section = visible_text(html)
    section = section[section.index("dbt tests of the last build") : section.index("Every check")]
    assert f"✓ dbt tests of the last build (run {build}): " in section and f"{tests['pass']} pass" in section


def test_a_deleted_gold_row_fails_the_report_naming_layer_entity_and_difference(built, emulator_env, tmp_path):
    settings, truth = built
    corrupt = copy_of(settings, tmp_path)
    con = duckdb.connect(str(corrupt.warehouse_path))
    victim = con.execute(FIRST_FACT).fetchone()
    con.execute("delete from gold.fact_order_items where order_item_id = ?", [victim[0]])
    con.close()
    env = {**emulator_env, "ECOMDWH_ENV": settings.env, "ECOMDWH_DUCKDB_PATH": str(corrupt.warehouse_path)}
    env |= {"ECOMDWH_REPORTS_DIR": str(tmp_path / "reports"), "COLUMNS": "400"}
    result = run_cli("report", "reconcile", "--date", last_day(truth), "--max-unknown-share", UNKNOWN_SHARE, env=env)
    out = " ".join(result.stdout.split())
    assert result.returncode == 1, out
    assert "Reconciliation failed for" in out and "Traceback" not in result.stdout + result.stderr
    assert "gold: order_items: warehouse_rows" in out and "(difference -1)" in out
    assert f"gold: {victim[1]}: silver_items" in out  # and the landing day it belonged to

    # The report a person opens: the verdict and the failed checks first, in red; no papermill boilerplate.
    folder = latest_report(tmp_path / "reports", "reconcile", last_day(truth))
    html = (folder / "reconcile.html").read_text()
    text = visible_text(html)
    assert re.match(rf"Reconciliation FAILED: {last_day(truth)} on local ✗ \d+ of \d+ checks failed", text), text[:300]
    written = truth["totals"]["order_items"]["written"]
    first_failure = (
        f"gold order_items valid order items in silver = rows of gold.fact_order_items warehouse_rows {written}"
    )
    header = "layer entity or day check expected found"
    assert text.index(header) < text.index(first_failure) < text.index("What is checked") < text.index("Row counts")
    assert f"gold {victim[1]} order items per landing day: silver = gold silver_items" in text
    assert "#cf222e" in html.split("What is checked")[0]  # the verdict in red
    assert "papermill" not in html and "An Exception was encountered" not in html
    executed = (folder / "reconcile.ipynb").read_text()
    assert "papermill-error-cell" not in executed and "An Exception was encountered" not in executed
    # The check table: full text, passed or failed in words, not True/False.
    checks = text[text.index("Every check") :]
    assert "✗ failed" in checks and "✓ passed" in checks and "True" not in checks and "False" not in checks
    assert "rows the manifests say were quarantined = rows in the quarantine parquet" in checks
    # This copy of the warehouse has no run history: the dbt section says so plainly.
    dbt = text[text.index("dbt tests of the last build") : text.index("Every check")]
    assert "No dbt build is recorded in this warehouse's run history" in dbt


def visible_text(html: str) -> str:
    """The text a browser shows, in order, whitespace collapsed (no head, styles or scripts)."""
    body = html[html.index("<body") :]
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    text = unescape(re.sub(r"(?s)<[^>]+>", " ", body))
    return " ".join(text.replace("¶", " ").split())


def test_a_changed_amount_fails_on_its_day(built, tmp_path: Path):
    settings, truth = built
    corrupt = copy_of(settings, tmp_path)
    con = duckdb.connect(str(corrupt.warehouse_path))
    item, day = con.execute(FIRST_FACT).fetchone()
    con.execute("update gold.fact_order_items set total_amount = total_amount + 1.50 where order_item_id = ?", [item])
    con.close()
    threshold = float(UNKNOWN_SHARE)
    result = reconcile.reconcile(last_day(truth), "local", 0.0, tmp_path / "r", threshold, settings=corrupt)
    assert not result.passed
    [failure] = result.failures
    assert (failure.layer, failure.row) == ("gold", str(day))
    assert "abs_difference is 1.5" in failure.sentence()
    assert json.loads(result.summary_path.read_text())["dbt_tests"] is None  # no build recorded
    # Within a tolerance, the same difference passes; a failed dbt test of the last build still fails the verdict.
    failed = [{"unique_id": "test.ecomdwh.relationships_x.1a", "status": "fail"}]
    build = record_build(corrupt, [{"unique_id": "test.ecomdwh.unique_y.2b", "status": "pass"}, *failed])
    again = reconcile.reconcile(last_day(truth), "local", 2.0, tmp_path / "r2", threshold, settings=corrupt)
    assert all(c.success for c in again.checks) and not again.passed
    assert again.message() == f"dbt tests failed in the last build (run {build}): relationships_x"
    summary = json.loads(again.summary_path.read_text())
    assert summary["passed"] is False and summary["message"] == again.message()
    assert summary["dbt_tests"]["counts"] == {"fail": 1, "pass": 1}
    assert summary["dbt_tests"]["failed"] == ["relationships_x"]


def test_a_dropped_silver_partition_fails_naming_silver_and_the_entity(built, tmp_path: Path):
    settings, truth = built
    settings = copy_of_lake(settings, tmp_path)  # parquet is removed from the copy, never from the shared lake
    partition = lake.committed_partitions(settings, "payments")[0]
    s3 = aws.s3(settings)
    files = lake.files_by_partition(settings, "payments")[(partition.ingest_date, partition.job_run_id)]
    lost = lake.parquet_rows(settings, files)
    for uri in files:
        s3.delete_object(Bucket=settings.staging_bucket, Key=uri.split("/", 3)[3])
    result = reconcile.reconcile(last_day(truth), "local", 0.0, tmp_path / "r", float(UNKNOWN_SHARE), settings=settings)
    sentences = [f.sentence() for f in result.failures]
    assert any(s.startswith("silver: payments: rows_written") and f"(difference -{lost})" in s for s in sentences)
    assert any(s.startswith("warehouse: payments: silver_rows") for s in sentences)
    assert not any("orders" in s for s in sentences)  # only what is broken is named
