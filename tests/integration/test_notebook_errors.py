"""What a notebook user sees when the warehouse or the lake is not there, without `%load_ext ecomdwh`: the failing
cell shows one sentence saying what to run, not a traceback; ECOMDWH_DEBUG=1 keeps the traceback."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from ecomdwh import kernel
from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration]


def first_error(notebook) -> dict:
    """Run `notebook` on the project's kernel until a cell fails; that cell's error output."""
    kernel.ensure_kernel()
    client = NotebookClient(notebook, kernel_name=kernel.KERNEL_NAME, timeout=120, resources={"metadata": {}})
    client.resources["metadata"]["path"] = str(ROOT / "notebooks")
    with pytest.raises(CellExecutionError):
        client.execute()
    errors = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"
    ]
    assert len(errors) == 1
    return errors[0]


@pytest.mark.parametrize("name", ["explore.ipynb", "sample_analytics.ipynb"])
def test_a_missing_warehouse_is_one_sentence(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    missing = tmp_path / "nowhere" / "ecomdwh.duckdb"
    monkeypatch.setenv("ECOMDWH_DUCKDB_PATH", str(missing))
    monkeypatch.setenv("ECOMDWH_TARGET", "local")
    monkeypatch.delenv("ECOMDWH_DEBUG", raising=False)
    error = first_error(nbformat.read(ROOT / "notebooks" / name, as_version=4))
    assert error["ename"] == "UserError"
    assert error["traceback"] == [
        f"There is no local warehouse at {missing} yet; `make demo` (or `ecomdwh run`) builds it."
    ]
    assert not missing.exists()


def stopped_emulator_cell(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from ecomdwh import lake\nfrom ecomdwh.settings import get_settings\n"
                'lake.read_layer(get_settings(), "order_items", "quarantine")'
            )
        ]
    )


def test_a_stopped_emulator_is_one_sentence(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ECOMDWH_DEBUG", raising=False)
    error = first_error(stopped_emulator_cell(monkeypatch))
    assert len(error["traceback"]) == 1
    assert error["traceback"][0].startswith("The S3 emulator at http://127.0.0.1:")
    assert "start it with `ecomdwh emulator start`" in error["traceback"][0]


def test_debug_keeps_the_traceback(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ECOMDWH_DEBUG", "1")
    error = first_error(stopped_emulator_cell(monkeypatch))
    text = "\n".join(error["traceback"])
    assert len(error["traceback"]) > 1 and "EndpointConnectionError" in text
