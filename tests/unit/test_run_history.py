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


def _build(settings: Settings, tmp_path: Path, statuses: dict[str, str], running: bool = False):
    """A run record whose dbt build ran tests with these statuses (test name -> status), appended to ops."""
    ctx = pipeline.RunContext(settings, tmp_path, days=["2026-03-02"])
    ctx.dbt_results = [{"unique_id": f"test.ecomdwh.{name}.1a", "status": s} for name, s in statuses.items()]
    done = [(name, pipeline.StepOutcome("ok", "", 1.0)) for name in pipeline.STEP_NAMES[:4]]
    record = run_history.run_record(ctx, done, run_ids.utcnow(), running=running)
    assert run_history.save(settings, record, create_warehouse=True) is None
    return ctx.run_id


def _last_build(settings: Settings):
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return run_history.last_build_tests(con)
    finally:
        con.close()


def test_the_last_recorded_build_gives_its_dbt_tests(tmp_path: Path):
    settings = scratch(tmp_path)
    duckdb.connect(str(settings.warehouse_path)).close()
    assert _last_build(settings) is None  # no ops schema: no build recorded
    old = _build(settings, tmp_path, {"unique_a": "pass", "not_null_b": "fail"})
    new = _build(settings, tmp_path, {"unique_a": "pass", "relationships_c": "fail", "unique_d": "error"}, True)
    # A run that stopped before dbt and a reconciliation report record no tests: they are not builds.
    stopped = run_history.run_record(pipeline.RunContext(settings, tmp_path), [], run_ids.utcnow())
    now = run_ids.utcnow()
    report = run_history.report_record(settings, run_ids.new_run_id(), "2026-03-02", "local", now, None, None)
    assert run_history.save(settings, stopped) is None and run_history.save(settings, report) is None
    tests = _last_build(settings)
    assert old < new and tests.run_id == new and tests.run_date == "2026-03-02"
    assert tests.counts == {"error": 1, "fail": 1, "pass": 1}
    assert tests.failed == ["relationships_c", "unique_d"] and not tests.passed
    assert tests.sentence() == f"dbt tests failed in the last build (run {new}): relationships_c, unique_d"


def test_a_running_record_is_replaced_by_the_final_one(tmp_path: Path):
    settings = scratch(tmp_path)
    ctx = pipeline.RunContext(settings, tmp_path, days=["2026-03-02"])
    done = [(name, pipeline.StepOutcome("ok", "", 1.0)) for name in pipeline.STEP_NAMES[:4]]
    running = run_history.run_record(ctx, done, run_ids.utcnow(), running=True)
    assert (running.status, running.message) == ("running", None)
    assert [s["status"] for s in running.steps] == ["ok"] * 4 + ["pending"] * 2
    assert run_history.save(settings, running, True) is None
    done += [(name, pipeline.StepOutcome("ok", "", 1.0)) for name in pipeline.STEP_NAMES[4:]]
    assert run_history.save(settings, run_history.run_record(ctx, done, run_ids.utcnow())) is None
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    runs = con.execute("select run_id, status from ops.runs").fetchall()
    con.close()
    assert runs == [(ctx.run_id, "ok")]


def test_a_run_killed_after_its_dbt_step_is_recorded_as_stopped_by_the_next_record(tmp_path: Path):
    settings = scratch(tmp_path)
    killed = _build(settings, tmp_path, {"unique_a": "pass"}, running=True)  # its final record never came
    report = run_history.report_record(
        settings, run_ids.new_run_id(), "2026-03-02", "local", run_ids.utcnow(), None, None
    )
    assert run_history.save(settings, report) is None
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    runs = dict(con.execute("select run_id, status from ops.runs").fetchall())
    message = con.execute("select message from ops.runs where run_id = ?", [killed]).fetchone()[0]
    con.close()
    assert runs == {killed: "failed", report.run_id: runs[report.run_id]} and runs[report.run_id] != "running"
    assert message == run_history.STOPPED_UNRECORDED
    assert _last_build(settings).run_id == killed  # its dbt tests still stand as the last build's


def test_the_report_section_shows_the_last_builds_tests_and_says_when_there_is_none(tmp_path: Path):
    from ecomdwh.reconcile import Reconciliation, present

    settings = scratch(tmp_path)
    nothing = Reconciliation("2026-03-02", "local", None, [], tmp_path, None)
    html = present.dbt_tests_html(nothing)
    assert "No dbt build is recorded in this warehouse's run history" in html and "<table" not in html
    assert nothing.passed and present.verdict_html(nothing).startswith('<h1 style="color:#1a7f37">')

    _build(settings, tmp_path, {"unique_a": "pass", "unique_b": "pass"})
    passed = Reconciliation("2026-03-02", "local", None, [], tmp_path, _last_build(settings))
    html = present.dbt_tests_html(passed)
    assert "✓" in html and "<td" in html and ">pass<" in html and ">2<" in html and "failed test" not in html
    assert passed.passed

    run_id = _build(settings, tmp_path, {"unique_a": "pass", "relationships_c": "fail"})
    failed = Reconciliation("2026-03-02", "local", None, [], tmp_path, _last_build(settings))
    html = present.dbt_tests_html(failed)
    assert "✗" in html and ">fail<" in html and ">relationships_c<" in html and run_id in html
    # A failed dbt test fails the reconciliation: the verdict and the message say so.
    assert not failed.passed
    assert failed.message() == f"dbt tests failed in the last build (run {run_id}): relationships_c"
    assert "Reconciliation FAILED" in present.verdict_html(failed) and "1 dbt test(s)" in present.verdict_html(failed)
