"""Every committed notebook is clean: no outputs or execution counts, one `parameters` cell for papermill,
the project's `ecomdwh` kernel, and nothing imported but the workbench and display/plot libraries (logic lives
in ecomdwh)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
# What a notebook may import: the workbench, and what shows its results.
ALLOWED_IMPORTS = {"ecomdwh", "IPython", "matplotlib", "pandas"}


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def imported_modules(source: str) -> set[str]:
    if source.lstrip().startswith("%%"):  # a cell magic's body (%%sql) is not Python
        return set()
    # Line magics and shell escapes are IPython, not Python.
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    modules = set()
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add("." if node.level else node.module.split(".")[0])
    return modules


def test_the_notebooks_are_there():
    assert {"sample_analytics.ipynb", "explore.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    nb = nbformat.read(request.param, as_version=4)
    nbformat.validate(nb)
    return nb


def test_committed_without_outputs(notebook):
    dirty = [i for i, cell in enumerate(code_cells(notebook)) if cell.outputs or cell.execution_count is not None]
    assert not dirty, f"code cells {dirty} carry outputs or execution counts; clear them before committing"


def test_exactly_one_parameters_cell(notebook):
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{len(tagged)} cells are tagged `parameters`; papermill needs exactly one"
    assert tagged[0].cell_type == "code"
    ast.parse(tagged[0].source)  # plain assignments papermill can override


def test_runs_on_the_project_kernel(notebook):
    # The venv's kernel under its own name (`ecomdwh setup` registers it): Lab opens the notebook on it.
    assert notebook.metadata.kernelspec.name == "ecomdwh"
    assert notebook.metadata.kernelspec.display_name == "ecomdwh (.venv)"


def test_imports_only_the_workbench_and_display_libraries(notebook):
    imported = set().union(*(imported_modules(cell.source) for cell in code_cells(notebook)))
    assert imported <= ALLOWED_IMPORTS, f"move the logic behind {imported - ALLOWED_IMPORTS} into ecomdwh"
