"""`ecomdwh lab` as a user starts it: one line with the URL and its token, JupyterLab on 127.0.0.1 only, rooted at
the repository with the project's kernel as the default, announcements and update checks off; headless Chromium
opens the printed URL on notebooks/explore.ipynb with the kernel "ecomdwh (.venv)"; neither the server, its
kernel nor the page reaches beyond loopback; Ctrl-C to the command's pid stops the server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest

from ecomdwh import kernel
from ecomdwh.devtools import browser, jupyter
from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp*
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"}

# Loaded by every Python the lab starts (the CLI, the server, its kernels): records each socket connect and name
# look-up, so the test sees any attempt to reach beyond loopback, refused or not.
SITECUSTOMIZE = """
import os, sys

_LOG = os.environ.get("ECOMDWH_TEST_CONNECT_LOG")


def _record(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        line = f"connect {args[1][0]} {args[1][1]}"
    elif event == "socket.getaddrinfo":
        line = f"resolve {args[0]} {args[1]}"
    else:
        return
    with open(_LOG, "a") as out:
        out.write(f"{os.getpid()} {line}\\n")


if _LOG:
    sys.addaudithook(_record)
"""


@dataclass
class Lab:
    running: browser.RunningLab
    port: int
    token: str
    output: Path
    connections: Path
    runtime: Path


def get(port: int, path: str, token: str | None, body: dict | None = None) -> tuple[int, bytes]:
    """GET `path` from the server (POST `body` as JSON when given)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{path}", data=data, method="GET" if data is None else "POST"
    )
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    scratch = tmp_path_factory.mktemp("lab")
    (scratch / "site").mkdir()
    (scratch / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    connections = scratch / "connections.log"
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(scratch / "site"), os.environ.get("PYTHONPATH")) if p),
        "ECOMDWH_TEST_CONNECT_LOG": str(connections),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
        "ECOMDWH_STATE_DIR": str(scratch / "state"),
    }
    env.pop("JUPYTER_TOKEN", None)  # the command makes its own
    # Lab keeps a checkpoint of each notebook it opens beside it: in this test's folder, not the working tree.
    config = scratch / "config"
    config.mkdir()
    checkpoints = {"FileCheckpoints": {"checkpoint_dir": str(scratch / "checkpoints")}}
    (config / "jupyter_server_config.json").write_text(json.dumps(checkpoints))
    env["JUPYTER_CONFIG_PATH"] = str(config)
    output = scratch / "lab.out"
    with browser.running_lab(port, env, output) as running:
        token = parse_qs(urlsplit(running.url).query)["token"][0]
        yield Lab(running, port, token, output, connections, scratch / "runtime")


def test_prints_one_line_with_the_url_and_logs_jupyter_elsewhere(lab: Lab):
    lines = lab.output.read_text().splitlines()
    assert len(lines) == 1, lines
    url = urlsplit(lab.running.url)
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", lab.port, "/lab/tree/notebooks/explore.ipynb")
    assert len(lab.token) >= 32
    assert lab.running.log.is_file() and "Jupyter Server" in lab.running.log.read_text()
    assert lab.running.log.stat().st_mode & 0o077 == 0  # it holds the token


def test_serves_the_repository_on_loopback_only_with_the_project_kernel(lab: Lab):
    port, token = lab.port, lab.token
    assert get(port, "api/status", token=None)[0] == 403  # the token is required
    status, page = get(port, "lab", token)
    assert status == 200 and b"JupyterLab" in page
    assert '"news": {"disabled": true}' in page.decode()

    kernels = json.loads(get(port, "api/kernelspecs", token)[1])
    assert kernels["default"] == kernel.KERNEL_NAME
    spec = kernels["kernelspecs"][kernel.KERNEL_NAME]["spec"]
    assert spec["display_name"] == "ecomdwh (.venv)"
    assert Path(spec["argv"][0]).parent == Path(sys.executable).parent

    root = {item["name"] for item in json.loads(get(port, "api/contents", token)[1])["content"]}
    assert {"notebooks", "dbt", "README.md"} <= root  # the repository, not just notebooks/

    assert json.loads(get(port, "lab/api/news", token)[1]) == {"news": []}
    assert json.loads(get(port, "lab/api/update", token)[1]) == {"notification": None}
    # The project's Lab defaults: no news feed and no toast asking about it.
    settings = json.loads(get(port, "lab/api/settings/@jupyterlab/apputils-extension:notification", token)[1])
    assert settings["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert settings["schema"]["properties"]["checkForUpdates"]["default"] is False

    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or IPv6
    other = other_local_address()
    if other:
        with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
            pass


def test_chromium_opens_explore_on_the_project_kernel_and_nothing_leaves_loopback(lab: Lab):
    with browser.page() as (page, blocked):
        kernel_shown = browser.open_notebook(page, lab.running.url)
    assert kernel_shown == "ecomdwh (.venv)"
    assert blocked.urls == []  # the page asked for nothing beyond loopback

    sessions = json.loads(get(lab.port, "api/sessions", lab.token)[1])
    opened = {s["path"]: s["kernel"]["name"] for s in sessions}
    assert opened.get("notebooks/explore.ipynb") == kernel.KERNEL_NAME

    attempts = [line.split() for line in lab.connections.read_text().splitlines()]
    assert attempts, "the connection recorder saw nothing; is sitecustomize loaded?"
    beyond = [a for a in attempts if a[2] not in LOOPBACK_HOSTS and a[2] != "None"]
    assert not beyond, beyond


def test_wide_frames_are_interactive_tables_from_the_wheel(tmp_path: Path):
    """charts.table of a long, wide frame in a kernel of `ecomdwh lab`: an itables table (search, pages) whose
    DataTables library comes from the wheel, with nothing fetched. On a scratch root, so the repository stays
    untouched."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "jupyter", root / "jupyter")
    cell = (
        "import pandas as pd\nfrom ecomdwh import charts\n"
        "charts.table(pd.DataFrame({f'col_{i}': range(40) for i in range(12)}))"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    notebook.metadata["kernelspec"] = {"name": kernel.KERNEL_NAME, "display_name": kernel.KERNEL_DISPLAY_NAME}
    nbformat.write(notebook, root / jupyter.START_NOTEBOOK)
    port = free_port()
    start = (
        "from pathlib import Path; from ecomdwh.devtools import jupyter; from ecomdwh.settings import Settings; "
        f"jupyter.lab(Settings(root=Path({str(root)!r}), state_root=Path({str(tmp_path / 'state')!r})), {port})"
    )
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    env.pop("JUPYTER_TOKEN", None)
    command = [sys.executable, "-c", start]
    with (
        browser.running_lab(port, env, tmp_path / "lab.out", command=command) as running,
        browser.page() as (page, blocked),
    ):
        browser.open_notebook(page, running.url)
        browser.run_all_cells(page)
        page.wait_for_selector("table.dataTable", timeout=60_000)
        assert page.locator(".jp-OutputArea input[type=search]").count() == 1  # the table's search box
        assert "of 40 entries" in page.inner_text(".jp-OutputArea")
    assert blocked.urls == []


def test_ctrl_c_stops_the_server_and_its_kernel(lab: Lab):
    process = lab.running.process
    # A kernel of its own, as a notebook opened in the browser starts one (the tests may run in any order).
    status, started = get(lab.port, "api/kernels", lab.token, {"name": kernel.KERNEL_NAME})
    assert status == 201, started
    kernel_ids = {k["id"] for k in json.loads(get(lab.port, "api/kernels", lab.token)[1])}
    assert json.loads(started)["id"] in kernel_ids
    os.kill(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while listening_addresses(lab.port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not listening_addresses(lab.port)
    leftovers = subprocess.run(["pgrep", "-f", f"--ServerApp.port={lab.port}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "the server outlived the command"
    assert not list(lab.runtime.glob("kernel-*.json"))  # the kernel was shut down, its connection file removed
