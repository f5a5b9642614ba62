"""Run history records and the per-run report folders, on DuckDB files in a scratch folder: what a record counts,
that writing it twice leaves one copy, and that `latest` names the newest report run without overwriting any."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from ecomdwh import pipeline, reports, run_history, run_ids
from ecomdwh.settings import Settings

MANIFEST = {
    "entity": "orders",
    "rows_read": 100,
    "rows_written": 90,
    "rows_deduplicated": 2,
    "rows_quarantined_total": 8,
    "rows_quarantined": {"bad_email": 5, "bad_timestamp": 3},
}


def scratch(tmp_path: Path) -> Settings:
    return Settings(state_root=tmp_path / "state", duckdb_path=tmp_path / "wh.duckdb", reports_root=tmp_path / "r")


def test_run_ids_sort_by_start_time():
    start = run_ids.utcnow()
    ids = [run_ids.new_run_id(start + timedelta(seconds=s)) for s in (0, 0.002, 1, 60, 3600)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert ids[0].startswith(f"{start:%Y%m%dT%H%M%S}{start.microsecond // 1000:03d}Z-")


def test_glue_and_dbt_metrics():
    glue = {(m["metric"], m["detail"]): m["value"] for m in run_history.glue_metrics([MANIFEST])}
    assert glue == {
        ("glue.rows_read", ""): 100,
        ("glue.rows_written", ""): 90,
        ("glue.rows_deduplicated", ""): 2,
        ("glue.rows_quarantined", "total"): 8,
        ("glue.rows_quarantined", "bad_email"): 5,
        ("glue.rows_quarantined", "bad_timestamp"): 3,
    }
    results = [
        {"unique_id": "model.ecomdwh.fact_order_items", "status": "success"},
        {"unique_id": "test.ecomdwh.unique_fact_order_items_key.1a", "status": "pass"},
        {"unique_id": "test.ecomdwh.not_null_dim_x.2b", "status": "fail"},
        {"unique_id": "test.ecomdwh.accepted_values_y.3c", "status": "warn"},
    ]
    dbt = [(m["metric"], m["detail"], m["value"]) for m in run_history.dbt_metrics(results)]
    assert dbt == [
        ("dbt_tests", "fail", 1),
        ("dbt_tests", "pass", 1),
        ("dbt_tests", "warn", 1),
        ("check_failed", "not_null_dim_x", 1),
    ]


def test_a_failed_run_is_recorded_with_its_failed_and_skipped_steps(tmp_path: Path):
    settings = scratch(tmp_path)
    ctx = pipeline.RunContext(settings, tmp_path, days=["2026-03-02"], manifests=[MANIFEST])
    outcomes = [
        ("land", pipeline.StepOutcome("ok", "1 landing day", 1.5)),
        ("glue", pipeline.StepOutcome("ok", "1 entity job", 9.0)),
        ("load", pipeline.StepOutcome("failed", "Disk full.", 0.2)),
    ] + [(name, pipeline.StepOutcome("skipped", "an earlier step failed")) for name in pipeline.STEP_NAMES[3:]]
    record = run_history.run_record(ctx, outcomes, run_ids.utcnow())
    assert (record.status, record.verdict, record.message) == ("failed", None, "Step load failed: Disk full.")
    assert record.run_date == "2026-03-02"

    assert run_history.save(settings, record, create_warehouse=True) is None
    assert run_history.save(settings, record) is None  # the same run again: still one record
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        runs = con.execute("select run_id, kind, status, message from ops.runs").fetchall()
        steps = con.execute("select step, status, seconds from ops.run_steps order by step_order").fetchall()
        metrics = con.execute("select count(*) from ops.run_metrics").fetchone()[0]
    finally:
        con.close()
    assert runs == [(ctx.run_id, "run", "failed", "Step load failed: Disk full.")]
    assert steps[:3] == [("land", "ok", 1.5), ("glue", "ok", 9.0), ("load", "failed", 0.2)]
    assert [s for _, s, _ in steps[3:]] == ["skipped"] * 3
    assert metrics == 6
    assert not list(run_history.pending_dir(settings).iterdir())  # appended: nothing left waiting


def test_an_interrupted_run_names_the_steps_it_did_not_reach(tmp_path: Path):
    ctx = pipeline.RunContext(scratch(tmp_path), tmp_path)
    record = run_history.run_record(ctx, [("land", pipeline.StepOutcome("ok", "", 1.0))], run_ids.utcnow())
    assert record.status == "failed" and record.message == "The run was interrupted."
    assert [s["status"] for s in record.steps] == ["ok"] + ["skipped"] * 5


def test_a_report_never_creates_the_warehouse_its_record_waits(tmp_path: Path):
    settings = scratch(tmp_path)
    record = run_history.report_record(
        settings, run_ids.new_run_id(), "2026-03-02", "local", run_ids.utcnow(), None, "The lake is empty."
    )
    note = run_history.save(settings, record)
    assert note and "until the warehouse exists" in note
    assert not settings.warehouse_path.exists()
    # The next run appends it with its own.
    run = pipeline.RunContext(settings, tmp_path)
    assert run_history.save(settings, run_history.run_record(run, [], run_ids.utcnow()), True) is None
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    kinds = con.execute("select kind, status, message from ops.runs order by kind").fetchall()
    con.close()
    assert kinds == [("reconcile", "failed", "The lake is empty."), ("run", "failed", "The run was interrupted.")]


def test_each_report_run_keeps_its_folder_and_latest_names_the_newest(tmp_path: Path):
    settings = scratch(tmp_path)
    first = reports.report_folder(settings, "trends", "2026-03-02", run_ids.new_run_id())
    second = reports.report_folder(settings, "trends", "2026-03-02", run_ids.new_run_id())
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text(folder.name)
        reports.mark_latest(folder)
    day = settings.reports_dir / "trends" / "2026-03-02"
    assert reports.latest_folder(settings, "trends", "2026-03-02") == second
    assert (day / "LATEST").read_text().strip() == second.name
    assert (day / "latest" / "summary.json").read_text() == second.name
    assert (first / "summary.json").read_text() == first.name  # nothing overwritten
    assert sorted(p.name for p in day.iterdir()) == sorted(["LATEST", "latest", first.name, second.name])
    assert reports.latest_folder(settings, "trends", "2026-03-03") is None
