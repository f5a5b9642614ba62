"""`ecomdwh lab` as a user starts it: JupyterLab answers on 127.0.0.1 only, with the project's kernel as the
default, announcements and update checks off, and stops by its pid (the CLI execs into the server)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "ecomdwh-test-token"
LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp*


def get(port: int, path: str, token: str | None = TOKEN) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{path}")
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == LISTEN and int(port_hex, 16) == port:
                found.add(address)
    return found


def other_local_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_lab_serves_notebooks_on_loopback_only_and_stops_by_its_pid(tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_TOKEN": TOKEN,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    log = (tmp_path / "lab.log").open("w")
    lab = subprocess.Popen(
        [sys.executable, "-m", "ecomdwh.cli", "lab", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                status, _ = get(port, "api/status")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.5)

        assert get(port, "api/status", token=None)[0] == 403  # the token is required
        status, page = get(port, "lab")
        assert status == 200 and b"JupyterLab" in page
        assert '"news": {"disabled": true}' in page.decode()

        kernels = json.loads(get(port, "api/kernelspecs")[1])
        assert kernels["default"] == "ecomdwh"
        assert kernels["kernelspecs"]["ecomdwh"]["spec"]["display_name"] == "ecomdwh (.venv)"
        assert Path(kernels["kernelspecs"]["ecomdwh"]["spec"]["argv"][0]).parent == Path(sys.executable).parent

        contents = json.loads(get(port, "api/contents")[1])  # the root is notebooks/
        assert "sample_analytics.ipynb" in {item["name"] for item in contents["content"]}

        assert json.loads(get(port, "lab/api/news")[1]) == {"news": []}
        assert json.loads(get(port, "lab/api/update")[1]) == {"notification": None}

        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or IPv6
        other = other_local_address()
        if other:
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
                pass
    finally:
        # The CLI exec'd into JupyterLab: the child's pid is the server's.
        os.kill(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(lab.pid, signal.SIGKILL)
            lab.wait(timeout=10)
        log.close()
    assert not listening_addresses(port)
