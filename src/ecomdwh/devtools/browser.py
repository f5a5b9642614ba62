"""Headless Chromium for the workbench's own checks and docs: JupyterLab driven by playwright with the
machine's Chromium (Debian's `chromium` package, `make browser`), never a browser playwright downloads.

The browser reaches loopback only: every request and WebSocket to another host is refused and recorded,
and no host name resolves but localhost.

    python -m ecomdwh.devtools.browser docs/images/jupyterlab-explore.png   # starts `ecomdwh lab`, takes the picture
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ecomdwh.errors import UserError

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1280, "height": 800}
KERNEL_NAME_SELECTOR = ".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName"


def chromium_path() -> str:
    """The machine's Chromium; `ECOMDWH_CHROMIUM` names another binary."""
    from ecomdwh.settings import get_settings

    chosen = get_settings().chromium
    found = chosen or next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if not found:
        raise UserError("There is no Chromium here; install it with `make browser` (Debian's chromium package).")
    return found


@dataclass
class Blocked:
    """What the page tried to reach beyond loopback (refused)."""

    urls: list[str] = field(default_factory=list)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about", "file"} or (parts.hostname or "") in LOOPBACK


@contextmanager
def page(viewport: dict | None = None) -> Iterator[tuple[object, Blocked]]:
    """A playwright page in headless Chromium that reaches loopback only, and the record of what it refused."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    blocked = Blocked()
    args = [
        # No name resolves beyond loopback.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to start as root
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        try:
            context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")

            def route(request_route) -> None:
                url = request_route.request.url
                if _is_loopback(url):
                    request_route.continue_()
                else:
                    blocked.urls.append(url)
                    request_route.abort("blockedbyclient")

            def route_socket(socket_route) -> None:
                if _is_loopback(socket_route.url):
                    socket_route.connect_to_server()
                else:
                    blocked.urls.append(socket_route.url)
                    socket_route.close()

            context.route("**/*", route)
            context.route_web_socket("**/*", route_socket)
            yield context.new_page(), blocked
        finally:
            browser.close()


def run_all_cells(lab_page) -> None:
    """Run > Run All Cells, as a user clicks it."""
    lab_page.get_by_text("Run", exact=True).first.click()
    lab_page.get_by_text("Run All Cells", exact=True).click()


def open_notebook(lab_page, url: str, timeout_s: float = 90) -> str:
    """Open a JupyterLab URL that names a notebook; wait until its kernel is idle (the status bar says so) and
    return the kernel's name as the notebook's toolbar shows it."""
    lab_page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    idle = lab_page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$"))
    idle.wait_for(timeout=timeout_s * 1000)
    return lab_page.inner_text(KERNEL_NAME_SELECTOR).strip()


# --- ecomdwh lab as a user starts it -------------------------------------------------------------------------------


@dataclass
class RunningLab:
    process: subprocess.Popen
    url: str
    log: Path


@contextmanager
def running_lab(
    port: int, env: dict[str, str], output: Path, timeout_s: float = 120, command: list[str] | None = None
) -> Iterator[RunningLab]:
    """`ecomdwh lab --port P` (or `command`) in a child process until its one line with the URL appears; stopped by
    its pid."""
    with output.open("w") as out:
        process = subprocess.Popen(
            command or [sys.executable, "-m", "ecomdwh.cli", "lab", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            lines = output.read_text().splitlines()
            announced = [line for line in lines if line.startswith("JupyterLab: http")]
            if announced:
                break
            if process.poll() is not None:
                raise RuntimeError(f"ecomdwh lab exited with {process.returncode}: {output.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ecomdwh lab printed no URL within {timeout_s} s: {output.read_text()[-2000:]}")
            time.sleep(0.3)
        url = announced[0].split()[1]
        log = Path(announced[0].split("(log: ", 1)[1].rstrip(")")) if "(log: " in announced[0] else output
        yield RunningLab(process, url, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout_s: float = 30) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def screenshot_explore(path: Path, port: int | None = None) -> Path:
    """The docs' picture: JupyterLab as `ecomdwh lab` opens it, on notebooks/explore.ipynb with its kernel idle."""
    import socket
    import tempfile

    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            # A fresh layout: the picture does not depend on the workspace the user left behind.
            "JUPYTERLAB_WORKSPACES_DIR": str(Path(scratch) / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(Path(scratch) / "runtime"),
            "ECOMDWH_STATE_DIR": str(Path(scratch) / "state"),
        }
        env.pop("JUPYTER_TOKEN", None)
        with running_lab(port, env, Path(scratch) / "lab.out") as lab, page() as (lab_page, blocked):
            open_notebook(lab_page, lab.url)
            lab_page.wait_for_timeout(1000)  # let the launcher's fade and the file list settle
            path.parent.mkdir(parents=True, exist_ok=True)
            lab_page.screenshot(path=str(path))
            if blocked.urls:
                raise RuntimeError(f"JupyterLab tried to reach the network: {blocked.urls}")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/jupyterlab-explore.png")
    print(screenshot_explore(target))
