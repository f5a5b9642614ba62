"""JupyterLab for the project: the venv's kernel registered under its own name, the server on loopback only,
rooted at the repository and opened on notebooks/explore.ipynb, with nothing fetched from the network (no news
feed, update check or PyPI listing).

`ecomdwh lab` runs the server as its child and prints one line, the URL with its token, once the server
answers; Jupyter's own output goes to `.state/lab/jupyterlab-<port>.log`. Ctrl-C (or SIGTERM to the
command's pid) stops the server and its kernels.
"""

from __future__ import annotations

import errno
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.kernel import KERNEL_NAME, LAB_ENV, ensure_kernel
from ecomdwh.settings import Settings

HOST = "127.0.0.1"
START_NOTEBOOK = "notebooks/explore.ipynb"  # relative to the repository root, Lab's root
START_TIMEOUT_S = 120
_PR_SET_PDEATHSIG = 1


# --- the server ----------------------------------------------------------------------------------------------------


def lab_command(settings: Settings, port: int, python: str = sys.executable) -> list[str]:
    """The JupyterLab 4.6 command line: loopback only, the given port or failure, no browser, offline."""
    return [
        python,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not a silent move to another one
        "--no-browser",
        f"--ServerApp.root_dir={settings.root}",  # models, reports and the README open beside the notebooks
        f"--LabApp.default_url=/lab/tree/{START_NOTEBOOK}",
        f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
        # Offline: no announcements feed, no update check, no PyPI search in the extension manager.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.collaborative=False",
        # Jupyter refuses to run as root unless told; root is the normal user in containers and CI.
        *(["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]


def lab_env(settings: Settings, token: str) -> dict[str, str]:
    """The server's environment: the token (kept out of `ps`), and the project's Lab defaults first on Jupyter's
    config path (jupyter/labconfig: no news feed, no update check, and no toast asking about them)."""
    config_path = os.pathsep.join(p for p in (str(settings.root / "jupyter"), settings.jupyter_config_path) if p)
    return {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_CONFIG_PATH": config_path, LAB_ENV: "1"}


def lab_url(port: int, token: str) -> str:
    return f"http://{HOST}:{port}/lab/tree/{START_NOTEBOOK}?token={token}"


def log_path(settings: Settings, port: int) -> Path:
    return settings.state_dir / "lab" / f"jupyterlab-{port}.log"


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"Port {port} on {HOST} is in use (another JupyterLab?); pick another with "
                    f"`ecomdwh lab --port {port + 1}`."
                ) from exc
            raise


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the command dies, so a killed `ecomdwh lab` leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _answers(port: int, token: str) -> bool:
    request = urllib.request.Request(f"http://{HOST}:{port}/api/status")
    request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return lines[-1][:300] if lines else "no output"


def lab(settings: Settings, port: int, announce=print) -> int:
    """Run JupyterLab until it stops; `announce` gets the one line with its URL. Returns the server's exit code."""
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a TCP port; use 1-65535.")
    if not (settings.root / START_NOTEBOOK).is_file():
        raise UserError(f"There is no {START_NOTEBOOK} under {settings.root}; run from a checkout of the project.")
    _check_port_free(port)
    ensure_kernel()
    # Jupyter's own variable: a token the user chose is kept.
    token = settings.jupyter_token or secrets.token_urlsafe(24)
    log = log_path(settings, port)
    log.parent.mkdir(parents=True, exist_ok=True)
    stopping = False
    server: subprocess.Popen | None = None

    def forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)  # the server's clean stop: kernels shut down, port freed

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the log holds the token
        with os.fdopen(fd, "w") as out:
            server = subprocess.Popen(
                lab_command(settings, port),
                cwd=settings.root,
                env=lab_env(settings, token),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C reaches this process only, which stops the server once.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        if stopping:  # a signal came while it started
            server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not stopping and server.poll() is None and not _answers(port, token):
            if time.monotonic() > deadline:
                server.terminate()
                server.wait(timeout=30)
                raise UserError(f"JupyterLab did not answer within {START_TIMEOUT_S} s; see {log}.")
            time.sleep(0.3)
        if server.poll() is not None and not stopping:
            raise UserError(f"JupyterLab did not start ({_last_line(log)}); see {log}.")
        if not stopping:
            announce(f"JupyterLab: {lab_url(port, token)}  (log: {_relative(log, settings.root)})")
            sys.stdout.flush()
        code = server.wait()
        if code != 0 and not stopping:
            raise UserError(f"JupyterLab stopped with exit status {code} ({_last_line(log)}); see {log}.")
        return 0 if stopping else code
    finally:
        if server is not None and server.poll() is None:  # an error above: never leave a server behind
            server.terminate()
            server.wait(timeout=30)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
