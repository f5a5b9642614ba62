"""Every server this workbench starts listens on loopback only: the emulator and Spark's driver."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ecomdwh.settings import Settings

pytestmark = pytest.mark.integration


def listening(pid: int) -> list[str]:
    """Local addresses of the TCP sockets `pid` listens on."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if re.search(rf"pid={pid},", line)]


def test_spark_driver_listens_on_loopback_only(spark):
    jvm_pid = int(spark.sparkContext._jvm.ProcessHandle.current().pid())
    assert jvm_pid != os.getpid()
    addresses = listening(jvm_pid)
    assert addresses, "the driver should listen for its executors and block manager"
    assert all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in addresses), addresses


def test_emulator_listens_on_loopback_only(session_settings: Settings):
    from ecomdwh.devtools import emulator

    state = emulator.status(session_settings)
    assert state is not None
    assert listening(state.pid) == [f"127.0.0.1:{session_settings.emulator_port}"]
