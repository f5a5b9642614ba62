"""Faults a laptop meets, end to end: the real CLI in child processes, each test with an S3 emulator of its own.

Every test starts its own emulator (through `ecomdwh run`) on a free loopback port with its own state
dir, so stopping, restarting or SIGKILLing it never disturbs the session's emulator, and stops it at
the end. The data is a small generated bronze whose reconciliation passes; its ground truth is what a
clean run must leave in the warehouse, whatever happened before.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from jupyter_client.manager import start_new_kernel

from ecomdwh import lake
from ecomdwh.contract import ENTITIES
from ecomdwh.generator import generate
from ecomdwh.settings import load_settings
from ecomdwh.warehouse import schema
from tests.conftest import ROOT, free_port, latest_report, run_cli
from tests.integration.test_notebook_reads import run_cell

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Two landing days whose reconciliation passes: with fewer orders per day, more than 10 % of the
# order items can lack a payment, and the unknown-member check fails the run.
DAYS, ORDERS_PER_DAY, SEED, BAD_RATE = 2, 40, 8, 0.03
BACKEND = os.environ.get("ECOMDWH_TEST_EMULATOR", "localstack")
RUN_TIMEOUT = 900  # one `ecomdwh run` takes 1-3 minutes on a busy 2-CPU machine


@dataclass
class Workbench:
    tmp: Path
    env: dict[str, str]
    bronze: Path
    truth: dict

    @property
    def endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def state(self) -> Path:
        return Path(self.env["ECOMDWH_STATE_DIR"])

    @property
    def warehouse(self) -> Path:
        return Path(self.env["ECOMDWH_DUCKDB_PATH"])

    @property
    def settings(self):
        return load_settings({**os.environ, **self.env})

    @property
    def last_day(self) -> str:
        return max(self.truth["days"])

    @property
    def files(self) -> int:
        return sum(len(e["files"]) for entities in self.truth["days"].values() for e in entities.values())

    @property
    def written(self) -> int:
        return sum(t["written"] for t in self.truth["totals"].values())

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return run_cli(*args, env=self.env, timeout=timeout)

    def run(self) -> subprocess.CompletedProcess:
        return self.cli("run", "--source", str(self.bronze), timeout=RUN_TIMEOUT)

    def popen_run(self, name: str) -> tuple[subprocess.Popen, Path]:
        """`ecomdwh run` in the background, its stdout in `<name>.out` (rich flushes every line), stderr beside."""
        out = self.tmp / f"{name}.out"
        with out.open("w") as sink, (self.tmp / f"{name}.err").open("w") as errors:
            child = subprocess.Popen(
                [sys.executable, "-m", "ecomdwh.cli", "run", "--source", str(self.bronze)],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=sink,
                stderr=errors,
                text=True,
            )
        return child, out

    def finished(self, child: subprocess.Popen, out: Path) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(
            child.args, child.returncode, out.read_text(), out.with_suffix(".err").read_text()
        )

    def emulator_pid(self) -> int:
        return json.loads((self.state / "emulator" / "emulator.json").read_text())["pid"]

    def expected_counts(self) -> dict:
        """What one clean run leaves in the warehouse: silver rows per entity, gold fact rows and money."""
        counts = {name: self.truth["totals"][name]["written"] for name in ENTITIES}
        counts["gold.fact_order_items"] = self.truth["totals"]["order_items"]["written"]
        counts["sum(total_amount)"] = self.truth["sums"]["order_items_line_amount"]
        return counts

    def counts(self) -> dict:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            counts = {name: con.execute(f"select count(*) from silver.{name}").fetchall()[0][0] for name in ENTITIES}
            [(facts, amount)] = con.execute("select count(*), sum(total_amount) from gold.fact_order_items").fetchall()
        finally:
            con.close()
        counts["gold.fact_order_items"] = facts
        counts["sum(total_amount)"] = str(amount)
        return counts

    def recorded_lakes(self) -> list[str]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            rows = con.execute(
                f"select lake_id from {schema.SCHEMA}.{schema.LAKES} order by first_loaded_at"
            ).fetchall()
        finally:
            con.close()
        return [row[0] for row in rows]


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Workbench]:
    truth = generate(tmp_path / "bronze", days=DAYS, orders_per_day=ORDERS_PER_DAY, seed=SEED, bad_rate=BAD_RATE)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "ECOMDWH_STATE_DIR": str(tmp_path / "state"),
        "ECOMDWH_EMULATOR": BACKEND,
        "ECOMDWH_PROJECT": "ecomdwh",
        "ECOMDWH_ENV": "e2e",
        "ECOMDWH_TARGET": "local",
        "ECOMDWH_DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "ECOMDWH_REPORTS_DIR": str(tmp_path / "reports"),
        "ECOMDWH_DEBUG": "",
        "COLUMNS": "1000",  # no wrapping: the step lines are matched whole
    }
    workbench = Workbench(tmp_path, env, tmp_path / "bronze", truth)
    try:
        yield workbench
    finally:
        workbench.cli("emulator", "stop", timeout=60)


def assert_clean_failure(result: subprocess.CompletedProcess) -> str:
    """Exit 1, one `Error:` line and no traceback; returns the sentence."""
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "unexpected" not in result.stdout
    return errors[0]


def assert_run_ok(bench: Workbench, result: subprocess.CompletedProcess) -> str:
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    for step in ("land", "glue", "load", "dbt", "reconcile", "report"):
        assert re.search(rf"^{step}: ok - ", out, re.M), step
    # Piped: plain lines, no colour or cursor codes; Spark's and dbt's own logs stay in their files.
    assert "\x1b[" not in out + result.stderr
    noise = r"Running with dbt=|log4j|^\d\d:\d\d:\d\d +(ERROR|WARN|INFO|Found \d+ models)|^\d\d/\d\d/\d\d \d\d:"
    assert not re.search(noise, out + result.stderr, re.M), out + result.stderr
    assert f"reconcile: ok - every layer reconciles for {bench.last_day}" in out
    folder = latest_report(bench.tmp / "reports", "reconcile", bench.last_day)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["passed"] is True and summary["run_date"] == bench.last_day
    return out


def _history_and_lakes(client) -> tuple[int, int]:
    """Recorded runs and lakes, queried by the kernel through its %%sql connection."""
    run_cell(
        client,
        f"""%%sql counts <<
select (select count(*) from ops.runs) as runs, (select count(*) from {schema.SCHEMA}.{schema.LAKES}) as lakes""",
    )
    runs, lakes = run_cell(client, "print(*counts.iloc[0])").split()
    return int(runs), int(lakes)


def wait_for(condition, seconds: float, child: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        assert child.poll() is None, out.read_text()
        time.sleep(0.1)
    assert condition(), out.read_text()


def test_two_runs_at_once_a_killed_and_a_restarted_emulator_leave_one_clean_runs_warehouse(bench: Workbench):
    """One laptop's afternoon, in one warehouse: three ordinary faults, each named, nothing doubled.

    1. a second `ecomdwh run` while the first holds the lock refuses at once, naming the first;
    2. the emulator stopped: a reader says it does not answer;
    3. the emulator SIGKILLed while the next run's glue step runs: that run fails in one sentence;
    4. the emulator started again, empty: reconciliation refuses, saying the lake is empty;
    5. `ecomdwh run` lands and rebuilds the lake and loads nothing twice: the warehouse equals one clean run's.
    """
    # 1. Two runs at once.
    lock = bench.state / "locks" / "ecomdwh-e2e.lock"
    first, out = bench.popen_run("first")
    try:
        wait_for(lambda: lock.exists() and f"pid: {first.pid}\n" in lock.read_text(), 120, first, out)
        assert f"pid: {first.pid}\ncommand: ecomdwh run\n" in lock.read_text()
        began = time.monotonic()
        second = bench.run()
        took = time.monotonic() - began
        refusal = assert_clean_failure(second)
        assert refusal.startswith(f"Error: Another ecomdwh writer (pid {first.pid}, `ecomdwh run`, since ")
        assert refusal.endswith("holds the lock for ecomdwh/e2e; wait for it to finish or stop it.")
        assert second.stdout.splitlines() == [refusal]  # refused before touching the emulator or the lake
        assert took < 20, took  # at once, not after waiting for the first (most of it is Python's start-up)
        assert first.poll() is None  # the refusal was against a live holder
        assert first.wait(timeout=RUN_TIMEOUT) == 0, out.read_text()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    text = assert_run_ok(bench, bench.finished(first, out))
    assert text.startswith(f"{BACKEND} started at {bench.endpoint} (pid ")
    assert f"{bench.files} file(s) uploaded, 0 already landed" in text
    assert f"load: ok - {bench.written} new silver row(s) into {bench.warehouse} schema silver\n" in text
    assert "recognised by content" not in text
    assert lock.read_text() == ""  # released, naming nobody
    clean = bench.counts()
    assert clean == bench.expected_counts()
    [first_lake] = bench.recorded_lakes()
    summary = bench.tmp / "reports" / "reconcile" / bench.last_day / "latest" / "summary.json"
    summary_written = summary.stat().st_mtime_ns

    # 2. The emulator stopped: a reader says so in one sentence.
    stopped = bench.cli("emulator", "stop")
    assert stopped.returncode == 0 and stopped.stdout.startswith(f"stopped {BACKEND} (pid ")
    down = assert_clean_failure(bench.cli("report", "reconcile", "--date", bench.last_day))
    assert down.startswith(f"Error: The S3 emulator at {bench.endpoint} does not answer")
    assert "`ecomdwh emulator start`" in down

    # 3. The next run starts a new emulator, lands, and loses it while its glue step runs.
    killed_run, out = bench.popen_run("killed")
    try:
        wait_for(lambda: re.search(r"^land: ", out.read_text(), re.M) is not None, 300, killed_run, out)
        assert re.search(rf"^land: ok - .* {bench.files} file\(s\) uploaded", out.read_text(), re.M), out.read_text()
        assert "glue: " not in out.read_text()  # the glue step has started, not finished (Spark takes seconds)
        killed = bench.emulator_pid()
        os.kill(killed, signal.SIGKILL)
        killed_run.wait(timeout=RUN_TIMEOUT)
    finally:
        if killed_run.poll() is None:
            killed_run.kill()
            killed_run.wait()
    failed = bench.finished(killed_run, out)
    error = assert_clean_failure(failed)
    assert error.startswith("Error: Step glue failed: ")
    assert f"The S3 emulator at {bench.endpoint} does not answer" in error
    assert "start it with `ecomdwh emulator start` and retry" in error
    assert "`ecomdwh run` lands the data again" in error
    assert error.count("does not answer") == 1  # said once, not once per entity
    assert re.search(r"^glue: failed - ", failed.stdout, re.M)
    for step in ("load", "dbt", "reconcile", "report"):
        assert re.search(rf"^{step}: skipped - an earlier step failed", failed.stdout, re.M), step
    assert bench.counts() == clean  # nothing reached the warehouse

    # The pid file still names the killed emulator: nothing of ours runs there now.
    assert bench.emulator_pid() == killed
    status = bench.cli("emulator", "status")
    assert status.returncode == 1 and status.stdout.strip() == "not running"

    # 4. Started again, hence empty: reconciliation refuses with what to do, and writes no report.
    started = bench.cli("emulator", "start", timeout=180)
    assert started.returncode == 0, started.stdout + started.stderr
    match = re.match(rf"{BACKEND} started at {re.escape(bench.endpoint)} \(pid (\d+)\)", started.stdout)
    assert match and int(match[1]) != killed, started.stdout
    restarted_pid = match[1]
    empty = assert_clean_failure(bench.cli("report", "reconcile", "--date", bench.last_day))
    staging = bench.settings.staging_bucket
    assert empty.startswith(f"Error: The lake in s3://{staging} is empty (a restarted S3 emulator starts empty)")
    assert "run `ecomdwh run` to land and rebuild it" in empty
    assert summary.stat().st_mtime_ns == summary_written

    # 5. The rebuild: landed again, Glue on every row, nothing loaded twice; all the while a notebook's kernel
    # keeps its %%sql connection to the warehouse, and its next cell sees what the run wrote.
    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ, **bench.env})
    try:
        run_cell(client, "%load_ext ecomdwh")
        runs, lakes = _history_and_lakes(client)
        assert lakes == 1
        rebuilt = assert_run_ok(bench, bench.run())
        assert _history_and_lakes(client) == (runs + 1, 2)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert rebuilt.startswith(f"{BACKEND} already running at {bench.endpoint} (pid {restarted_pid})")
    assert f"{bench.files} file(s) uploaded, 0 already landed" in rebuilt
    assert f"{bench.written} written + " in rebuilt
    assert (
        "The lake is not the one this warehouse was loaded from (an emulator restart empties it): "
        f"{bench.written} row(s) of its silver were already in the warehouse and were recognised by content, "
        "not loaded again." in rebuilt
    )
    assert (
        f"load: ok - 0 new silver row(s) into {bench.warehouse} schema silver "
        f"({bench.written} already there, not loaded twice)" in rebuilt
    )
    assert not re.search(r"^loaded \d+ new", rebuilt, re.M)
    assert bench.counts() == clean
    assert summary.stat().st_mtime_ns > summary_written
    lakes = bench.recorded_lakes()
    assert len(lakes) == 2 and lakes[0] == first_lake and lakes[1] != first_lake
    assert lake.lake_id(bench.settings) == lakes[1]
