"""The --extra-py-files zip Glue jobs import their logic from: glue_local.etl plus the contract."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The package markers keep `ecomdwh.contract`, `ecomdwh.commit_log` and `glue_local.etl` importable from the zip;
# nothing else of the workbench (CLI, emulator, boto3 wiring) goes to Glue.
MEMBERS = (
    "glue_local/__init__.py",
    "glue_local/etl/*.py",
    "src/ecomdwh/__init__.py",
    "src/ecomdwh/contract.py",
    "src/ecomdwh/commit_log.py",
)


def build_etl_zip(out: Path) -> Path:
    """Write the zip reproducibly (fixed timestamps, sorted entries), whole or not at all: a reader (a Spark
    application started beside, another test worker) never sees half a zip."""
    out.parent.mkdir(parents=True, exist_ok=True)
    files = sorted({p for pattern in MEMBERS for p in ROOT.glob(pattern)})
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            arcname = path.relative_to(ROOT).as_posix().removeprefix("src/")
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(partial, out)
    return out
