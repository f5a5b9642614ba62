"""JupyterLab for the project: the venv's kernel registered under its own name, the server on loopback only,
opened on notebooks/, with nothing fetched from the network (no news feed, update check or PyPI listing)."""

from __future__ import annotations

import os
import subprocess
import sys

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

KERNEL_NAME = "ecomdwh"
KERNEL_DISPLAY_NAME = "ecomdwh (.venv)"
HOST = "127.0.0.1"


def register_kernel(python: str = sys.executable) -> None:
    """Install (or refresh: it overwrites) the kernelspec of this venv's interpreter inside the venv."""
    command = [
        python,
        "-m",
        "ipykernel",
        "install",
        "--sys-prefix",
        "--name",
        KERNEL_NAME,
        "--display-name",
        KERNEL_DISPLAY_NAME,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"Could not register the {KERNEL_NAME} kernel ({detail[0]}); rerun `make setup`.")


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
        f"--ServerApp.root_dir={settings.root / 'notebooks'}",
        f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
        # Offline: no announcements feed, no update check, no PyPI search in the extension manager.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # Jupyter refuses to run as root unless told; root is the normal user in containers and CI.
        *(["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]


def lab(settings: Settings, port: int) -> None:
    """Register the kernel, then replace this process with JupyterLab (Ctrl-C stops it; its pid is ours)."""
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a TCP port; use 1-65535.")
    notebooks = settings.root / "notebooks"
    if not notebooks.is_dir():
        raise UserError(f"There is no notebooks folder at {notebooks}; run from a checkout of the project.")
    register_kernel()
    command = lab_command(settings, port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
