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

from ecomdwh import lake
from ecomdwh.contract import ENTITIES
from ecomdwh.generator import generate
from ecomdwh.settings import load_settings
from ecomdwh.warehouse import schema
from tests.conftest import ROOT, free_port, run_cli

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
    assert f"reconcile: ok - every layer reconciles for {bench.last_day}" in out
    summary = json.loads((bench.tmp / "reports" / "reconcile" / bench.last_day / "summary.json").read_text())
    assert summary["passed"] is True and summary["run_date"] == bench.last_day
    return out


def test_an_emulator_restart_relands_reruns_and_loads_nothing_twice(bench: Workbench):
    first = assert_run_ok(bench, bench.run())
    assert first.startswith(f"{BACKEND} started at {bench.endpoint} (pid ")
    assert f"{bench.files} file(s) uploaded, 0 already landed" in first
    assert f"load: ok - {bench.written} new silver row(s) into {bench.warehouse} schema silver\n" in first
    assert "recognised by content" not in first
    after_first = bench.counts()
    assert after_first == bench.expected_counts()
    [first_lake] = bench.recorded_lakes()
    summary = bench.tmp / "reports" / "reconcile" / bench.last_day / "summary.json"
    summary_written = summary.stat().st_mtime_ns

    stopped = bench.cli("emulator", "stop")
    assert stopped.returncode == 0 and stopped.stdout.startswith(f"stopped {BACKEND} (pid ")

    # The emulator gone: a reader says so in one sentence.
    down = assert_clean_failure(bench.cli("report", "reconcile", "--date", bench.last_day))
    assert down.startswith(f"Error: The S3 emulator at {bench.endpoint} does not answer")
    assert "`ecomdwh emulator start`" in down

    started = bench.cli("emulator", "start", timeout=180)
    assert started.returncode == 0, started.stdout + started.stderr
    match = re.match(rf"{BACKEND} started at {re.escape(bench.endpoint)} \(pid (\d+)\)", started.stdout)
    assert match, started.stdout
    restarted_pid = match[1]

    # Restarted, hence empty: reconciliation refuses with what to do, and writes no report.
    empty = assert_clean_failure(bench.cli("report", "reconcile", "--date", bench.last_day))
    staging = bench.settings.staging_bucket
    assert empty.startswith(f"Error: The lake in s3://{staging} is empty (a restarted S3 emulator starts empty)")
    assert "run `ecomdwh run` to land and rebuild it" in empty
    assert summary.stat().st_mtime_ns == summary_written

    second = assert_run_ok(bench, bench.run())
    assert second.startswith(f"{BACKEND} already running at {bench.endpoint} (pid {restarted_pid})")
    assert f"{bench.files} file(s) uploaded, 0 already landed" in second  # landed again
    assert f"{bench.written} written + " in second  # Glue ran again on every row
    assert (
        "The lake is not the one this warehouse was loaded from (an emulator restart empties it): "
        f"{bench.written} row(s) of its silver were already in the warehouse and were recognised by content, "
        "not loaded again." in second
    )
    assert (
        f"load: ok - 0 new silver row(s) into {bench.warehouse} schema silver "
        f"({bench.written} already there, not loaded twice)" in second
    )
    assert not re.search(r"^loaded \d+ new", second, re.M)  # no "loaded N new <entity> row(s)" line
    assert bench.counts() == after_first
    assert summary.stat().st_mtime_ns > summary_written

    lakes = bench.recorded_lakes()
    assert len(lakes) == 2 and lakes[0] == first_lake and lakes[1] != first_lake
    assert lake.lake_id(bench.settings) == lakes[1]


def test_a_second_run_refuses_while_the_first_holds_the_lock(bench: Workbench):
    lock = bench.state / "locks" / "ecomdwh-e2e.lock"
    first, out = bench.popen_run("first")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (lock.exists() and f"pid: {first.pid}\n" in lock.read_text()):
            assert first.poll() is None, out.read_text()
            time.sleep(0.1)
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
    assert f"{bench.files} file(s) uploaded, 0 already landed" in text
    assert f"load: ok - {bench.written} new silver row(s) into {bench.warehouse} schema silver\n" in text
    assert bench.counts() == bench.expected_counts()
    assert lock.read_text() == ""  # released, naming nobody


def test_the_emulator_killed_mid_run_fails_the_run_with_what_to_do(bench: Workbench):
    run, out = bench.popen_run("killed")
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not re.search(r"^land: ", out.read_text(), re.M):
            assert run.poll() is None, out.read_text()
            time.sleep(0.1)
        assert re.search(rf"^land: ok - .* {bench.files} file\(s\) uploaded", out.read_text(), re.M), out.read_text()
        assert "glue: " not in out.read_text()  # the glue step has started, not finished (Spark takes seconds)
        killed = bench.emulator_pid()
        os.kill(killed, signal.SIGKILL)
        run.wait(timeout=RUN_TIMEOUT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    failed = bench.finished(run, out)
    error = assert_clean_failure(failed)
    text = failed.stdout
    assert error.startswith("Error: Step glue failed: ")
    assert f"The S3 emulator at {bench.endpoint} does not answer" in error
    assert "start it with `ecomdwh emulator start` and retry" in error
    assert "`ecomdwh run` lands the data again" in error
    assert re.search(r"^glue: failed - ", text, re.M)
    for step in ("load", "dbt", "reconcile", "report"):
        assert re.search(rf"^{step}: skipped - an earlier step failed", text, re.M), step

    # The pid file still names the killed emulator: nothing runs there now, and the next run starts a new one.
    assert bench.emulator_pid() == killed
    status = bench.cli("emulator", "status")
    assert status.returncode == 1 and status.stdout.strip() == "not running"

    rerun = assert_run_ok(bench, bench.run())
    match = re.match(rf"{BACKEND} started at {re.escape(bench.endpoint)} \(pid (\d+)\)", rerun)
    assert match and int(match[1]) != killed, rerun
    assert f"{bench.files} file(s) uploaded, 0 already landed" in rerun  # the new emulator started empty
    assert f"load: ok - {bench.written} new silver row(s) into {bench.warehouse} schema silver\n" in rerun
    assert "recognised by content" not in rerun
    assert bench.counts() == bench.expected_counts()
    assert len(bench.recorded_lakes()) == 1
