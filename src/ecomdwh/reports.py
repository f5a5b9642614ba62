"""Dated notebook reports: a parameterized notebook run by papermill, kept with a self-contained HTML.

    reports/<kind>/<date>/<kind>.ipynb   the executed notebook
    reports/<kind>/<date>/<kind>.html    charts embedded, code hidden, no script from the network
    reports/<kind>/<date>/...            whatever the notebook writes (summary.json, GX Data Docs)

The kernel inherits this process's environment, so the notebook's `get_settings()`
sees the same buckets, warehouse and target as the command that ran it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ecomdwh import jupyter
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

SUMMARY = "summary.json"  # what a notebook writes for schedulers and tests
NOTEBOOKS = {"reconcile": "reconciliation.ipynb", "analytics": "sample_analytics.ipynb"}
KERNEL = jupyter.KERNEL_NAME  # the project's venv kernel, the one the notebooks name (registered when missing)
CELL_TIMEOUT_S = 600  # a cell that runs longer is a hung kernel, not a slow query
KERNEL_START_TIMEOUT_S = 120

_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.IGNORECASE)


@dataclass
class Report:
    folder: Path
    notebook: Path
    html: Path
    error: str | None  # the notebook's own failure (e.g. a reconciliation check), None when it passed

    @property
    def ok(self) -> bool:
        return self.error is None


def notebooks_dir(settings: Settings) -> Path:
    return settings.root / "notebooks"


def report_folder(settings: Settings, kind: str, day: str) -> Path:
    return settings.reports_dir / kind / day


def export_html(notebook: Path, html: Path) -> Path:
    """A self-contained HTML of an executed notebook: outputs and narrative, images inline, no remote scripts."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True)
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    # The template links MathJax and require.js from a CDN; the reports use neither, and stay offline.
    html.write_text(_REMOTE_SCRIPT.sub("", body), encoding="utf-8")
    return html


def run_notebook(
    settings: Settings,
    kind: str,
    day: str,
    parameters: dict,
    timeout_s: int = CELL_TIMEOUT_S,
    folder: Path | None = None,
) -> Report:
    """Execute the `kind` notebook into its dated folder, then export HTML (also when the notebook failed)."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    folder = folder or report_folder(settings, kind, day)
    folder.mkdir(parents=True, exist_ok=True)
    source = notebooks_dir(settings) / NOTEBOOKS[kind]
    executed = folder / f"{kind}.ipynb"
    error = None
    jupyter.ensure_kernel()
    # The kernel takes its environment from this process: hand it these settings, overrides included.
    saved = dict(os.environ)
    os.environ.update(settings.child_env())
    os.environ.pop(jupyter.LAB_ENV, None)  # a report is a static page, also when run from a terminal in Lab
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters={**parameters, "report_dir": str(folder)},
            kernel_name=KERNEL,
            cwd=str(notebooks_dir(settings)),
            execution_timeout=timeout_s,
            start_timeout=KERNEL_START_TIMEOUT_S,
            progress_bar=False,
            # The kernel talks to us over loopback only; its transport warning is noise in every run.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except (CellTimeoutError, TimeoutError) as exc:
        raise UserError(
            f"The {kind} notebook did not finish a cell within {timeout_s} s (a hung kernel or a stuck query); "
            f"see {executed} and retry."
        ) from exc
    except DeadKernelError as exc:
        raise UserError(f"The {kind} notebook's kernel died ({exc}); see {executed} and retry.") from exc
    finally:
        os.environ.clear()
        os.environ.update(saved)
    html = export_html(executed, folder / f"{kind}.html")
    return Report(folder, executed, html, error)
