"""The --extra-py-files zip: the job logic and the contract import from it alone, and it is reproducible."""

import subprocess
import sys
import zipfile
from pathlib import Path

from glue_local.runtime.package import build_etl_zip


def test_zip_holds_the_etl_and_the_contract_and_nothing_else(tmp_path: Path):
    names = set(zipfile.ZipFile(build_etl_zip(tmp_path / "etl.zip")).namelist())
    assert {"glue_local/etl/bronze_to_silver.py", "ecomdwh/contract.py", "ecomdwh/__init__.py"} <= names
    assert not any(n.startswith(("ecomdwh/cli", "ecomdwh/devtools", "glue_local/runtime")) for n in names)


def test_job_logic_imports_from_the_zip_alone(tmp_path: Path):
    zipped = build_etl_zip(tmp_path / "etl.zip")
    # Every project module the job logic pulls in must come from the zip: the editable install's import
    # hook would otherwise find a module the zip lacks, here but not on Glue.
    probe = (
        "import glue_local.etl.bronze_to_silver, ecomdwh.contract; "
        "print('\\n'.join(getattr(m, '__file__', None) or n for n, m in sorted(sys.modules.items()) "
        "if n.split('.')[0] in ('ecomdwh', 'glue_local')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(zipped)!r}); {probe}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # -I isolates from the editable install; pyspark comes from site-packages, as on Glue.
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.splitlines()
    assert len(loaded) >= 6
    assert [line for line in loaded if str(zipped) not in line] == []


def test_zip_is_byte_reproducible(tmp_path: Path):
    assert build_etl_zip(tmp_path / "a.zip").read_bytes() == build_etl_zip(tmp_path / "b.zip").read_bytes()
