"""Progress as a person sees it: a live bar in a terminal, plain lines without colour codes elsewhere; dbt's results
said in words; the reconciliation's tables readable."""

from __future__ import annotations

import io
import re
import threading

from rich.console import Console

from ecomdwh import dbt_runner
from ecomdwh.progress import Quiet, Reporter

ANSI = re.compile(r"\x1b\[")


def fake_console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    colours = {"color_system": "standard"} if terminal else {}  # what rich picks for a terminal, or for a pipe
    return Console(file=out, force_terminal=terminal, width=80, markup=False, **colours), out


def test_in_a_terminal_a_bar_counts_the_files_and_logged_lines_stay():
    console, out = fake_console(terminal=True)
    with Reporter(console) as reporter:
        assert reporter.live
        with reporter.task("landing files", total=3, unit="file(s)") as task:
            task.advance()
            task.advance()
            reporter.progress.refresh()
            task.log("landed 2026-03-14: 2 new, 0 already there")
            task.advance()
            reporter.progress.refresh()
    text = out.getvalue()
    assert "landing files" in text and "2/3" in text and "3/3" in text  # the bar, redrawn as it advanced
    assert "landed 2026-03-14: 2 new, 0 already there" in text
    assert ANSI.search(text)  # a terminal gets its cursor and colour codes


def test_piped_only_plain_lines_no_spinner_no_colour_codes():
    console, out = fake_console(terminal=False)
    with Reporter(console, every_s=0) as reporter:
        assert not reporter.live and reporter.progress is None
        with reporter.task("Glue jobs", total=3, unit="entities") as task:
            task.advance()
            task.log("orders: 2 file(s), read 10, written 9, quarantined 1, deduplicated 0 (1.0 s)")
            task.advance()
            task.advance()
        with reporter.task("starting Spark"):
            pass
    lines = out.getvalue().splitlines()
    assert lines == [
        "Glue jobs: 1 of 3 entities",
        "orders: 2 file(s), read 10, written 9, quarantined 1, deduplicated 0 (1.0 s)",
        "Glue jobs: 2 of 3 entities",  # the last one is said by the step's own line, not a progress line
    ]
    assert not ANSI.search(out.getvalue())


def test_plain_progress_lines_are_throttled_and_long_lines_never_wrapped():
    console, out = fake_console(terminal=False)
    path = "/a/very/long/folder/" * 8 + "reconcile.html"
    with Reporter(console) as reporter, reporter.task("dbt build", total=80, unit="nodes") as task:
        for _ in range(79):
            task.advance()
        task.log(f"report: {path}")
    assert out.getvalue() == f"report: {path}\n"  # no per-node line within PLAIN_EVERY_S; the path whole


def test_tasks_are_advanced_safely_from_many_threads():
    console, out = fake_console(terminal=True)
    with Reporter(console) as reporter, reporter.task("landing files", total=800, unit="file(s)") as task:
        workers = [threading.Thread(target=lambda: [task.advance() for _ in range(100)]) for _ in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert task.done == 800


def test_quiet_shows_nothing():
    with Quiet() as reporter, reporter.task("x", total=2) as task:
        task.advance()
        task.log("nothing")
    assert task.done == 1


def result(unique_id: str, status: str) -> dict:
    return {"unique_id": unique_id, "status": status}


def test_the_run_summary_says_dbts_results_in_words():
    results = (
        [result(f"test.ecomdwh.t{i}", "pass") for i in range(58)]
        + [result(f"model.ecomdwh.m{i}", "success") for i in range(18)]
        + [result(f"snapshot.ecomdwh.s{i}", "success") for i in range(2)]
        + [result(f"seed.ecomdwh.s{i}", "success") for i in range(4)]
    )
    assert dbt_runner.describe(results) == "58 data tests passed, 18 models built, 2 snapshots taken, 4 seeds loaded"
    failing = [result("test.ecomdwh.a", "fail"), result("test.ecomdwh.b", "pass"), result("model.ecomdwh.m", "error")]
    failing.append(result("model.ecomdwh.n", "skipped"))
    assert dbt_runner.describe(failing) == "1 data test failed, 1 data test passed, 1 model errored, 1 model skipped"
    assert dbt_runner.describe([]) == "nothing to build"


def test_dbt_json_events_count_finished_nodes_once():
    start = {"info": {"name": "LogStartLine"}, "data": {"index": 1, "total": 2, "node_info": {"unique_id": "m.a"}}}
    end = {"info": {"name": "LogModelResult"}, "data": {"index": 1, "total": 2, "node_info": {"unique_id": "m.a"}}}
    skipped = {"info": {"name": "SkippingDetails"}, "data": {"index": 2, "total": 2, "node_info": {"unique_id": "m.b"}}}
    other = {"info": {"name": "FoundStats"}, "data": {"stat_line": "Found 2 models"}}
    assert [dbt_runner._finished_node(e) for e in (start, end, skipped, other)] == [None, "m.a", "m.b", None]
