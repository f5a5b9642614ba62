"""Which way imports go: import-linter's contracts in pyproject.toml (docs/architecture.md) hold for the code,
and they break when a leaf module imports the pipeline, even inside a function."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """`lint-imports` on the pyproject.toml in `cwd`; --no-cache: it writes nothing to the tree."""
    if not LINT_IMPORTS.exists():
        pytest.skip("lint-imports is not installed: `make setup` (the dev extras carry import-linter)")
    env = dict(os.environ)
    if pythonpath is not None:  # ahead of the editable install, so the copy is the one analysed
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_leaf_importing_the_pipeline_breaks_the_contracts(tmp_path: Path):
    def python_only(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()}

    for package in (ROOT / "src" / "ecomdwh", ROOT / "glue_local"):
        shutil.copytree(package, tmp_path / package.name, ignore=python_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    contract = tmp_path / "ecomdwh" / "contract.py"
    contract.write_text(contract.read_text() + "\n\ndef _later():\n    from ecomdwh import pipeline  # noqa: F401\n")

    result = lint_imports(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ecomdwh.contract -> ecomdwh.pipeline" in result.stdout
    # The pipeline imports the contract: the new import closes a cycle too.
    assert "No cycles are allowed in ecomdwh." in result.stdout
