"""Run history on a server and beside another writer: the same records on the test PostgreSQL, a record that waits
while another process holds the writer lock, and the trends report on a single run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ecomdwh import run_history, run_ids, trends, writer_lock
from ecomdwh.settings import Settings
from tests.conftest import latest_report, scratch_env

pytestmark = [pytest.mark.integration]


def record(settings: Settings, target: str, minutes: int, quarantined: dict[str, int], revenue: float):
    """A run's record as a run that read 100 order rows would leave it."""
    started = run_ids.utcnow() + timedelta(minutes=minutes)
    summary = {
        "passed": True,
        "frames": {
            "layer_counts": [{"entity": "orders", "rows_read": 100, "rows_quarantined": 8, "gold_rows": None}],
            "money": [{"ingest_date": "2026-03-01", "gold_amount": revenue}],
            "referential": [{"dimension": "dim_customers", "unknown_share": 0.04}],
        },
        "checks": [{"success": True}],
        "failures": [],
    }
    manifest = {
        "entity": "orders",
        "rows_read": 100,
        "rows_written": 90,
        "rows_deduplicated": 2,
        "rows_quarantined_total": sum(quarantined.values()),
        "rows_quarantined": quarantined,
    }
    return run_history.Record(
        run_id=run_ids.new_run_id(started),
        kind="run",
        run_date="2026-03-01",
        target=target,
        env=settings.env,
        warehouse=run_history.warehouse_id(settings, target),
        started_at=started.isoformat(),
        finished_at=(started + timedelta(seconds=42)).isoformat(),
        status="ok",
        verdict="passed",
        message=None,
        steps=[{"step": "land", "status": "ok", "seconds": 2.0, "detail": "landed"}],
        metrics=run_history.glue_metrics([manifest]) + run_history.reconcile_metrics(summary),
    )


def test_the_same_history_on_postgresql(pg_db: dict[str, str], tmp_path: Path):
    settings = Settings(state_root=tmp_path / "state", target="pg", pg=pg_db)
    first = record(settings, "pg", 0, {"bad_email": 8}, 100.0)
    second = record(settings, "pg", 1, {"bad_email": 5, "bad_timestamp": 3}, 120.5)
    for r in (first, second, second):  # the second twice: still one copy
        assert run_history.save(settings, r) is None

    history = trends.load(settings, "pg")
    assert list(history.runs["run_id"]) == [first.run_id, second.run_id]
    assert list(history.runs["status"]) == ["ok", "ok"]
    assert len(history.steps) == 2 and len(history.metrics) == 2 * len(second.metrics) - 1  # one reason fewer
    changes = history.changes()
    assert changes.previous == first.run_id and changes.latest == second.run_id
    assert changes.revenue.to_dict("records") == [
        {"day": "2026-03-01", "previous": 100.0, "latest": 120.5, "change": 20.5}
    ]
    assert changes.new_quarantine_reasons.to_dict("records") == [
        {"entity": "orders", "reason": "bad_timestamp", "rows": 3.0}
    ]
    assert history.quarantine_rates().iloc[-1].tolist() == [0.08, 0.08]


def test_a_record_waits_while_another_process_holds_the_writer_lock(tmp_path: Path):
    settings = Settings(state_root=tmp_path / "state", duckdb_path=tmp_path / "wh.duckdb")
    duckdb.connect(str(settings.warehouse_path)).close()
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from ecomdwh import writer_lock
        from ecomdwh.settings import Settings
        with writer_lock.hold(Settings(state_root=Path({str(settings.state_dir)!r})), "ecomdwh load"):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    child = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        waiting = record(settings, "local", 0, {"bad_email": 8}, 100.0)
        note = run_history.save(settings, waiting)
        assert note and "the next run or report on this warehouse appends it" in note
        assert "`ecomdwh load`" in note  # who holds the lock
        assert (run_history.pending_dir(settings) / f"{waiting.run_id}.json").exists()
    finally:
        child.communicate("\n", timeout=30)
    assert not writer_lock.is_held_here(settings)
    later = record(settings, "local", 1, {"bad_email": 8}, 100.0)
    assert run_history.save(settings, later) is None  # appends the waiting record with its own
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    ids = [i for (i,) in con.execute("select run_id from ops.runs order by run_id").fetchall()]
    con.close()
    assert ids == [waiting.run_id, later.run_id]
    assert not list(run_history.pending_dir(settings).iterdir())


def test_trends_on_one_run_say_so(tmp_path: Path, cli_in_process):
    env = scratch_env(tmp_path, "trendsone") | {"ECOMDWH_REPORTS_DIR": str(tmp_path / "reports")}
    main = cli_in_process(env)
    settings = Settings(state_root=tmp_path / "state", duckdb_path=tmp_path / "warehouse.duckdb", env="trendsone")
    assert run_history.save(settings, record(settings, "local", 0, {"bad_email": 8}, 100.0), True) is None
    code, out = main("report", "trends", "--date", "2026-03-01")
    assert code == 0, out
    folder = latest_report(tmp_path / "reports", "trends", "2026-03-01")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["runs"] == 1 and summary["headline"].startswith("Only one run is recorded on `local`")
    assert "nothing to compare" in summary["changes_text"]
    html = (folder / "trends.html").read_text()
    assert "Only one run is recorded" in html and html.count("data:image/png;base64") >= 5
