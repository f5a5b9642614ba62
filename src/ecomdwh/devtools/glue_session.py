"""Start, stop and inspect the Glue session (glue_local/runtime/session.py): a warm Spark driver on 127.0.0.1,
recorded with its pid and stopped by that pid."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

from ecomdwh.devtools.processes import stop_pid
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from glue_local.runtime import session
from glue_local.runtime.session import SessionState


def status(settings: Settings) -> SessionState | None:
    """The running session of this state folder, or None."""
    state = session.read_state(settings)
    return state if state is not None and session.is_running(state) else None


def start(settings: Settings, idle_minutes: float, timeout: float = 180) -> tuple[SessionState, bool]:
    """Start the session unless one runs. Returns (state, started_now). Two starts at once start one session."""
    lock = session.state_file(settings).with_name("start.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return _start(settings, idle_minutes, timeout)


def _start(settings: Settings, idle_minutes: float, timeout: float) -> tuple[SessionState, bool]:
    running = status(settings)
    if running is not None:
        return running, False
    session.state_file(settings).unlink(missing_ok=True)  # stale: its process is gone
    log = session.log_file(settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", session.MODULE, "--idle-minutes", str(idle_minutes)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=settings.root,
            env={**os.environ, **settings.child_env()},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # it outlives the command that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = session.read_state(settings)
        if state is not None and state.pid == process.pid:
            return state, True
        if process.poll() is not None:
            tail = (log.read_text(errors="replace").strip().splitlines() or ["no output"])[-1][:300]
            raise UserError(f"The Glue session did not start ({tail}); its log is {log}.")
        time.sleep(0.2)
    stop_pid(process.pid)
    raise UserError(f"The Glue session did not start within {timeout:.0f} s; its log is {log}.")


def stop(settings: Settings) -> SessionState | None:
    """Stop the session by its recorded pid. Returns what was stopped, or None."""
    state = status(settings)
    if state is not None:
        stop_pid(state.pid, grace=30)
    session.state_file(settings).unlink(missing_ok=True)
    return state
