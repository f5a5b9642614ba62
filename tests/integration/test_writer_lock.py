"""One writer at a time per project and env: a second writer refuses naming the first; a dead one's lock is taken over.

No emulator or Spark: every writer command takes the lock before it needs either, and the S3
endpoint points where nothing listens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecomdwh import writer_lock
from ecomdwh.errors import UserError
from ecomdwh.settings import load_settings
from tests.conftest import ROOT, run_cli, scratch_env

HOLD = """
import sys, time
from ecomdwh import writer_lock
from ecomdwh.settings import get_settings
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
try:
    with writer_lock.hold(get_settings(), "ecomdwh run"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
except Exception as exc:
    print("refused:", exc, flush=True)
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return scratch_env(tmp_path, "lock")


def holder(env: dict[str, str], seconds: float = 600, start: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(start), str(seconds)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def held(env: dict[str, str]):
    """A child process holding the writer lock for `ecomdwh run`."""
    child = holder(env)
    assert child.stdout.readline().strip() == "held"
    yield child
    child.kill()
    child.wait()


@pytest.mark.parametrize(
    "args",
    [
        ["load"],
        ["dbt", "build"],
        ["dbt", "--no-populate-cache", "run", "--select", "x"],
        ["glue", "run", "bronze_to_silver"],
        ["glue", "reset-bookmark", "bronze_to_silver"],
        ["land", "data_samples/bronze"],
        ["land", "olist", "data_samples/bronze"],
        ["run"],
    ],
)
def test_a_second_writer_refuses_naming_the_first(env: dict[str, str], held: subprocess.Popen, args: list[str]):
    result = run_cli(*args, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Another ecomdwh writer (pid {held.pid}, `ecomdwh run`, since " in result.stdout
    assert "holds the lock for ecomdwh/lock; wait for it to finish or stop it" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_readers_do_not_take_the_lock(env: dict[str, str], held: subprocess.Popen, tmp_path: Path):
    assert writer_lock.lock_path(load_settings({**os.environ, **env})).exists()
    assert "Another ecomdwh writer" not in run_cli("emulator", "status", env=env).stdout
    packaged = run_cli("glue", "package", "--out", str(tmp_path / "etl.zip"), env=env)
    assert packaged.returncode == 0, packaged.stdout


def test_another_env_is_not_blocked(env: dict[str, str], held: subprocess.Popen):
    with writer_lock.hold(load_settings({**os.environ, **env, "ECOMDWH_ENV": "other"}), "ecomdwh load"):
        pass


def test_a_killed_writers_lock_is_taken_over(env: dict[str, str], held: subprocess.Popen):
    settings = load_settings({**os.environ, **env})
    assert writer_lock.read_holder(writer_lock.lock_path(settings))["pid"] == str(held.pid)
    held.send_signal(signal.SIGKILL)
    held.wait()
    # The dead holder's text is still there; the next writer passes the lock and fails later, on S3.
    result = run_cli("load", env=env)
    assert "Another ecomdwh writer" not in result.stdout
    assert "does not answer" in result.stdout
    path = writer_lock.lock_path(settings)
    held_again = holder(env)
    try:
        assert held_again.stdout.readline().strip() == "held"
        holder_now = writer_lock.read_holder(path)
        assert holder_now["pid"] == str(held_again.pid) and holder_now["command"] == "ecomdwh run"
        assert path.read_text().count("pid: ") == 1
    finally:
        held_again.kill()
        held_again.wait()


def test_reentrant_within_one_process(env: dict[str, str]):
    settings = load_settings({**os.environ, **env})
    with writer_lock.hold(settings, "ecomdwh run"):
        with writer_lock.hold(settings, "ecomdwh load"):
            assert writer_lock.is_held_here(settings)
        # Still held after the inner block: another process is refused.
        assert writer_lock.is_held_here(settings)
        assert writer_lock.read_holder(writer_lock.lock_path(settings))["command"] == "ecomdwh run"
        refused = run_cli("load", env=env)
        assert refused.returncode == 1 and f"(pid {os.getpid()}, `ecomdwh run`" in refused.stdout
    assert not writer_lock.is_held_here(settings)
    assert writer_lock.lock_path(settings).read_text() == ""


def test_a_refusal_in_process_is_a_user_error(env: dict[str, str], held: subprocess.Popen):
    settings = load_settings({**os.environ, **env})
    with pytest.raises(UserError, match=f"pid {held.pid}, `ecomdwh run`"), writer_lock.hold(settings, "ecomdwh load"):
        pass


def test_of_two_writers_started_at_once_exactly_one_wins(env: dict[str, str]):
    start = time.time() + 1.5  # both children are up and spinning by then
    children = [holder(env, seconds=2, start=start) for _ in range(2)]
    lines = {}
    for child in children:
        out, _ = child.communicate(timeout=30)
        lines[child.pid] = out.strip()
    winners = [pid for pid, line in lines.items() if line == "held"]
    assert len(winners) == 1, lines
    (loser,) = [line for pid, line in lines.items() if pid != winners[0]]
    assert loser.startswith(f"refused: Another ecomdwh writer (pid {winners[0]}, `ecomdwh run`, since ")


@pytest.mark.parametrize(
    ("args", "writes"),
    [
        (["build"], True),
        (["--no-populate-cache", "run", "--select", "x"], True),
        (["--log-level", "debug", "seed"], True),
        (["snapshot"], True),
        (["test", "--select", "run"], False),
        (["--no-populate-cache", "compile", "--target", "redshift"], False),
        (["show", "--inline", "select 1"], False),
        (["ls"], False),
        (["docs", "generate"], False),
        ([], False),
    ],
)
def test_which_dbt_commands_take_the_lock(args: list[str], writes: bool):
    from ecomdwh.dbt_runner import DBT_WRITERS, dbt_subcommand

    assert (dbt_subcommand(args) in DBT_WRITERS) is writes
