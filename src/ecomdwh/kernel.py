"""The project's Jupyter kernel: this venv's interpreter registered under its own name, which the notebooks name.

Reports (papermill) run on it and `ecomdwh lab` offers it; `ensure_kernel` registers it when missing or stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ecomdwh.errors import UserError

KERNEL_NAME = "ecomdwh"
KERNEL_DISPLAY_NAME = "ecomdwh (.venv)"
LAB_ENV = "ECOMDWH_LAB"  # set for Lab's server, so its kernels know they feed a browser (charts.interactive)


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


def _registered_spec():
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return None


def _is_ours(spec, python: str) -> bool:
    return (
        spec is not None
        and bool(spec.argv)
        and Path(spec.argv[0]).parent == Path(python).parent
        and spec.display_name == KERNEL_DISPLAY_NAME
    )


def ensure_kernel(python: str = sys.executable) -> bool:
    """Register the project's kernel unless this venv's is already there; True when it registered it."""
    if _is_ours(_registered_spec(), python):
        return False
    register_kernel(python)
    spec = _registered_spec()
    if not _is_ours(spec, python):
        # A kernelspec of the same name earlier on Jupyter's path (e.g. ~/.local/share/jupyter) wins.
        where = spec.resource_dir if spec is not None else "Jupyter's kernel path"
        raise UserError(
            f"The {KERNEL_NAME} kernel at {where} runs another Python than {python}; remove that folder and retry."
        )
    return True
