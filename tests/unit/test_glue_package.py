"""The --extra-py-files zip: the job logic and the contract import from it alone, and it is reproducible."""

import subprocess
import sys
import zipfile
from pathlib import Path

from glue_local.runtime.package import build_etl_zip


def test_zip_holds_the_etl_and_the_contract_and_nothing_else(tmp_path: Path):
    names = set(zipfile.ZipFile(build_etl_zip(tmp_path / "etl.zip")).namelist())
    assert {"glue_local/etl/bronze_to_silver.py", "ecomdwh/contract.py", "ecomdwh/__init__.py"} <= names
    assert not any(n.startswith(("ecomdwh/cli", "ecomdwh/emulator", "glue_local/runtime")) for n in names)


def test_job_logic_imports_from_the_zip_alone(tmp_path: Path):
    zipped = build_etl_zip(tmp_path / "etl.zip")
    probe = "import glue_local.etl.bronze_to_silver as m, ecomdwh.contract as c; print(m.__file__); print(c.__file__)"
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(zipped)!r}); {probe}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # -I isolates from the editable install; pyspark comes from site-packages, as on Glue.
    assert out.returncode == 0, out.stderr
    assert all(str(zipped) in line for line in out.stdout.splitlines())


def test_zip_is_byte_reproducible(tmp_path: Path):
    assert build_etl_zip(tmp_path / "a.zip").read_bytes() == build_etl_zip(tmp_path / "b.zip").read_bytes()
