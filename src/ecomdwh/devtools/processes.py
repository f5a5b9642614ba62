"""Stopping a server this workbench started, by the pid it recorded and nothing else."""

from __future__ import annotations

import os
import signal
import time


def stop_pid(pid: int, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds if the process is still there."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child; otherwise just probe that it exists.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
