"""The Glue session: a warm Spark driver that commands attach to, one at a time, started and stopped by pid."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ecomdwh.devtools import emulator, glue_session
from ecomdwh.settings import Settings
from glue_local.etl import silver_store
from glue_local.runtime import session
from tests.conftest import ROOT, run_cli
from tests.integration.test_glue_bookmarks import land_items

pytestmark = [pytest.mark.integration, pytest.mark.spark]

# A command of its own: attach, say what it got, then (if asked) hold the session with a job that never ends.
CHILD = """
import json, sys, time
from ecomdwh.settings import load_settings
from glue_local.runtime import session
spark = session.attach(load_settings())
if spark is None:
    print(json.dumps({"attached": False}), flush=True)
    sys.exit(0)
sc = spark.sparkContext
print(json.dumps({"attached": True, "active_jobs": len(sc.statusTracker().getActiveJobsIds()),
                  "code": sc.environment.get("ECOMDWH_CODE_VERSION")}), flush=True)
if sys.argv[1:] == ["hold"]:
    sc.parallelize(range(2), 2).map(lambda x: time.sleep(600)).count()
"""


# A command's own Spark whose JVM dies just before its jobs run: what the runner says of it.
OWN_JVM_LOST = """
from pyspark import SparkContext
from ecomdwh.errors import UserError
from ecomdwh.settings import load_settings
from glue_local.runtime import runner
from glue_local.runtime.spark import get_spark
settings = load_settings()
spark = get_spark(settings)
SparkContext._gateway.proc.kill()
SparkContext._gateway.proc.wait()
try:
    runner.run_bronze_to_silver(spark, settings, ["order_items"])
except UserError as exc:
    print(exc)
"""


def child_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.child_env()}


def attach_in_child(settings: Settings) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD], env=child_env(settings), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def descendants(pid: int) -> set[int]:
    return {child.pid for child in psutil.Process(pid).children(recursive=True)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


@pytest.fixture
def settings(session_settings: Settings, tmp_path: Path) -> Settings:
    settings = session_settings.with_overrides(env="gluesession", state_root=tmp_path / "state")
    emulator.create_buckets(settings)
    return settings


def test_commands_attach_one_at_a_time_and_a_killed_one_frees_the_session(settings: Settings, tmp_path: Path):
    state, started = glue_session.start(settings, idle_minutes=30)
    family: set[int] = set()
    try:
        assert started and glue_session.start(settings, idle_minutes=30) == (state, False)
        assert oct(session.state_file(settings).stat().st_mode)[-3:] == "600"  # the file holds the token
        env = {**settings.child_env(), "COLUMNS": "200"}

        # `ecomdwh glue run` attaches, reads what landed, and leaves the session free for the next command.
        land_items(settings, tmp_path / "bronze", "2026-03-01", range(0, 50))
        for read in (50, 0):
            result = run_cli("glue", "run", "bronze_to_silver", "--entity", "order_items", env=env)
            assert result.returncode == 0, result.stdout + result.stderr
            assert f"attached to the Glue session (pid {state.pid})" in result.stdout
            assert f"order_items: {1 if read else 0} file(s), read {read}, written {read}" in result.stdout

        # While one command holds the session, another is refused (it would start its own Spark).
        holder = subprocess.Popen(
            [sys.executable, "-c", CHILD, "hold"], env=child_env(settings), stdout=subprocess.PIPE, text=True
        )
        try:
            first = json.loads(holder.stdout.readline())
            assert first["attached"] and first["code"] == session.code_version()
            time.sleep(2)  # its job is running
            assert attach_in_child(settings) == {"attached": False}
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
        # Killed mid-job: the session cancels what it left running and is granted to the next command.
        deadline = time.monotonic() + 60
        while not ((after := attach_in_child(settings))["attached"] and after["active_jobs"] == 0):
            assert time.monotonic() < deadline, after
            time.sleep(1)

        # Commands with other Spark settings do not attach, and `status` says so (in words the terminal's
        # width wraps wherever the log's path ends, leaving a space at the end of a line).
        same = run_cli("glue", "session", "status", env=env)
        assert same.returncode == 0 and "commands here attach to it" in " ".join(same.stdout.split()), same.stdout
        other = run_cli("glue", "session", "status", env={**env, "ECOMDWH_SPARK_JAVA_OPTIONS": "-Xss4m"})
        assert other.returncode == 0 and "other Spark settings" in " ".join(other.stdout.split()), other.stdout
        family = descendants(state.pid)
        assert family  # its JVM (and the JVM's Python workers)
    finally:
        stopped = run_cli("glue", "session", "stop", env=settings.child_env())
    assert stopped.returncode == 0 and f"stopped the Glue session (pid {state.pid})" in stopped.stdout
    assert not session.state_file(settings).exists()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in {state.pid, *family}):
        assert time.monotonic() < deadline, "the session's processes outlived its stop"
        time.sleep(0.5)
    none = run_cli("glue", "session", "status", env=settings.child_env())
    assert none.returncode == 1 and "no Glue session is running" in none.stdout


def test_two_starts_at_once_start_one_session_which_stops_itself_when_idle(settings: Settings):
    env = {**os.environ, **settings.child_env(), "COLUMNS": "200"}
    command = [sys.executable, "-m", "ecomdwh.cli", "glue", "session", "start", "--idle-minutes", "0.2"]
    starts = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    said = [p.communicate(timeout=300)[0] for p in starts]
    assert [p.returncode for p in starts] == [0, 0], said
    assert sorted("already running" in out for out in said) == [False, True], said
    [pid] = {int(re.search(r"pid (\d+)", out)[1]) for out in said}
    deadline = time.monotonic() + 90
    while alive(pid):
        assert time.monotonic() < deadline, "the idle session did not stop"
        time.sleep(0.5)
    assert not session.state_file(settings).exists()


def test_a_session_killed_under_a_command_fails_it_in_one_sentence_and_a_start_replaces_it(
    spark, settings: Settings, tmp_path: Path
):
    killed, _ = glue_session.start(settings, idle_minutes=30)
    try:
        family = descendants(killed.pid)
        land_items(settings, tmp_path / "bronze", "2026-03-01", range(0, 50))
        env = {**os.environ, **settings.child_env(), "COLUMNS": "200"}
        command = [sys.executable, "-m", "ecomdwh.cli", "glue", "run", "bronze_to_silver", "--entity", "order_items"]
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert f"attached to the Glue session (pid {killed.pid})" in run.stdout.readline()
            os.kill(killed.pid, signal.SIGKILL)
            out, err = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
        # The command says what happened and what to do, once, with none of py4j's words.
        assert run.returncode == 1, out + err
        [error] = [line for line in out.splitlines() if line.startswith("Error: ")]
        said = f"Error: The Glue session (pid {killed.pid}) stopped while this command's jobs ran"
        assert error.startswith(said), out
        assert "`ecomdwh glue run bronze_to_silver`" in error and "commit" in error
        assert not re.search(r"py4j|Py4J|Traceback|Answer from Java", out + err), out + err
        assert "Exception while sending command" in settings.spark_log_path.read_text()
        deadline = time.monotonic() + 60
        while any(alive(pid) for pid in {killed.pid, *family}):  # its JVM goes with it
            assert time.monotonic() < deadline, "the killed session's JVM outlived it"
            time.sleep(0.5)
        assert session.read_state(settings) == killed  # stale: nothing removed it
        gone = run_cli("glue", "session", "status", env=settings.child_env())
        assert gone.returncode == 1 and "no Glue session is running" in gone.stdout
        assert attach_in_child(settings) == {"attached": False}  # the command starts its own Spark

        # A command's own JVM gone under its jobs: the same, in its own words, and py4j's report in the log.
        own = subprocess.run([sys.executable, "-c", OWN_JVM_LOST], env=env, capture_output=True, text=True, timeout=300)
        assert own.returncode == 0, own.stdout + own.stderr
        assert own.stdout.startswith("Spark's driver (its JVM) stopped while the jobs ran"), own.stdout + own.stderr
        assert f"see {settings.spark_log_path} and rerun" in own.stdout
        assert not re.search(r"py4j|Py4J|Traceback", own.stderr), own.stderr

        fresh, started = glue_session.start(settings, idle_minutes=30)
        assert started and fresh.pid != killed.pid and session.read_state(settings) == fresh
        # The rerun, attached to the new session, reads what the killed run left uncommitted (all of it, or
        # nothing where the kill came after its commit): silver holds the 50 rows once.
        rerun = run_cli("glue", "run", "bronze_to_silver", "--entity", "order_items", env=env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert f"attached to the Glue session (pid {fresh.pid})" in rerun.stdout
        assert re.search(r"order_items: (1 file\(s\), read 50, written 50|0 file\(s\), read 0,)", rerun.stdout)
        silver = silver_store.read_committed(spark, settings.staging_bucket, "order_items")
        assert silver.count() == silver.select("order_item_id").distinct().count() == 50
    finally:
        glue_session.stop(settings)  # whichever session the record names, also when an assertion failed


def test_a_failed_start_says_why_in_one_sentence(settings: Settings):
    broken = run_cli("glue", "session", "start", env={**settings.child_env(), "JAVA_HOME": "/nonexistent"})
    assert broken.returncode != 0
    said = broken.stdout + broken.stderr
    assert "The Glue session did not start" in said and "JAVA_HOME is /nonexistent" in said, said
    assert "Traceback" not in said
