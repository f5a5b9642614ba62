"""Dated notebook reports: a parameterized notebook run by papermill, kept with a self-contained HTML.

Every report run has a folder of its own, never overwritten, named by its run id:

    reports/<kind>/<date>/<run id>/<kind>.ipynb   the executed notebook
    reports/<kind>/<date>/<run id>/<kind>.html    charts embedded, code hidden, no script from the network
    reports/<kind>/<date>/<run id>/...            whatever the notebook writes (summary.json, GX Data Docs)
    reports/<kind>/<date>/LATEST                  the newest run id of that kind and date (a text file)
    reports/<kind>/<date>/latest                  a relative symlink to that folder, where symlinks can be made

With ECOMDWH_REPORTS_URI=s3://<bucket>/<prefix> set (the pipeline containers, whose disk ends with the task),
each finished run folder is copied to <prefix>/<kind>/<date>/<run id>/, and LATEST beside it when it names
that run; S3 has no symlinks, so `latest` stays local.

The kernel inherits this process's environment, so the notebook's `get_settings()`
sees the same buckets, warehouse and target as the command that ran it.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ecomdwh import kernel
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

SUMMARY = "summary.json"  # what a notebook writes for schedulers and tests
NOTEBOOKS = {
    "reconcile": "reconciliation.ipynb",
    "analytics": "sample_analytics.ipynb",
    "trends": "quality_trends.ipynb",
    "churn": "churn.ipynb",
}
KERNEL = kernel.KERNEL_NAME  # the project's venv kernel, the one the notebooks name (registered when missing)
CELL_TIMEOUT_S = 600  # a cell that runs longer is a hung kernel, not a slow query
KERNEL_START_TIMEOUT_S = 120

_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.IGNORECASE)


@dataclass
class Report:
    folder: Path
    notebook: Path
    html: Path
    error: str | None  # the notebook's own failure (e.g. a reconciliation check), None when it passed
    uri: str | None = None  # where the folder was copied (ECOMDWH_REPORTS_URI), None when it was not

    @property
    def ok(self) -> bool:
        return self.error is None


def notebooks_dir(settings: Settings) -> Path:
    return settings.root / "notebooks"


def report_folder(settings: Settings, kind: str, day: str, run_id: str) -> Path:
    return settings.reports_dir / kind / day / run_id


LATEST = "LATEST"  # the text pointer, readable everywhere
LATEST_LINK = "latest"  # the symlink beside it, for people and shells


def mark_latest(folder: Path) -> None:
    """Point `<kind>/<date>/LATEST` (and the `latest` symlink) at a report run's folder, each replaced atomically."""
    parent, run_id = folder.parent, folder.name
    tmp = parent / f".{LATEST}.{run_id}"
    tmp.write_text(run_id + "\n", encoding="utf-8")
    tmp.replace(parent / LATEST)
    link = parent / f".{LATEST_LINK}.{run_id}"
    try:
        link.unlink(missing_ok=True)
        link.symlink_to(run_id, target_is_directory=True)
        link.replace(parent / LATEST_LINK)
    except OSError:  # no symlinks here (Windows without the privilege): LATEST alone points
        link.unlink(missing_ok=True)


def _files(folder: Path) -> list[Path]:
    """Every regular file under folder; symlinks are neither followed nor copied."""
    found = []
    for directory, dirs, names in os.walk(folder, followlinks=False):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        found += [here / n for n in sorted(names) if not (here / n).is_symlink() and (here / n).is_file()]
    return found


def _upload_args(path: Path) -> dict:
    content_type, _ = mimetypes.guess_type(path.name)
    if path.name == LATEST:
        content_type = "text/plain"
    return {"ContentType": content_type} if content_type else {}


def publish(settings: Settings, folder: Path, kind: str, day: str) -> str | None:
    """Copy a finished report run's folder to ECOMDWH_REPORTS_URI/<kind>/<date>/<run id>/, then the date's LATEST
    when it names this run (the pointer follows its folder, never precedes it). Returns the folder's URI, or None
    when ECOMDWH_REPORTS_URI is not set."""
    if not settings.reports_uri:
        return None
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    from ecomdwh import aws

    location = urlparse(settings.reports_uri)
    bucket = location.netloc
    date_prefix = "/".join(p for p in (location.path.strip("/"), kind, day) if p)
    uri = f"s3://{bucket}/{date_prefix}/{folder.name}/"
    client = aws.s3(settings)
    try:
        for path in _files(folder):
            key = f"{date_prefix}/{folder.name}/{path.relative_to(folder).as_posix()}"
            client.upload_file(str(path), bucket, key, ExtraArgs=_upload_args(path))
        pointer = folder.parent / LATEST
        if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == folder.name:
            client.upload_file(str(pointer), bucket, f"{date_prefix}/{LATEST}", ExtraArgs=_upload_args(pointer))
    except (ClientError, S3UploadFailedError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Could not copy the report {folder} to {uri} ({detail}); check that the bucket exists and that "
            "this role may write to it (ECOMDWH_REPORTS_URI), then rerun the report."
        ) from exc
    return uri


def latest_folder(settings: Settings, kind: str, day: str) -> Path | None:
    """The newest report run's folder of a kind and date (through LATEST), None when there is none."""
    pointer = settings.reports_dir / kind / day / LATEST
    if not pointer.exists():
        return None
    return pointer.parent / pointer.read_text(encoding="utf-8").strip()


# The markdown cell papermill puts at the top of a failed notebook ("An Exception was encountered at In [13]"),
# and the anchor it adds to the failing cell: boilerplate to a reader, who gets the error itself in that cell.
PAPERMILL_ERROR_TAGS = {"papermill-error-cell-tag"}


def _readable_cells(cells: list) -> list:
    return [c for c in cells if not PAPERMILL_ERROR_TAGS & set(c.get("metadata", {}).get("tags", []))]


def without_papermill_boilerplate(notebook: Path) -> None:
    """Drop papermill's error banner cells from an executed notebook, in place."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    kept = _readable_cells(nb.cells)
    if len(kept) != len(nb.cells):
        nb.cells = kept
        nbformat.write(nb, notebook)


def notebook_verdict(folder: Path) -> str | None:
    """The failure a notebook wrote to its summary.json ({"passed": false, "message": ...}), None otherwise."""
    path = folder / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(summary, dict) and summary.get("passed") is False:
        return str(summary.get("message") or "a check failed")
    return None


def export_html(notebook: Path, html: Path) -> Path:
    """A self-contained HTML of an executed notebook: outputs and narrative, images inline, no remote scripts,
    no papermill error banner."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True)
    exporter.exclude_output_prompt = True
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = _readable_cells(nb.cells)
    body, _ = exporter.from_notebook_node(nb)
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
    run_id: str | None = None,
) -> Report:
    """Execute the `kind` notebook into a new folder of its date, then export HTML (also when the notebook
    failed) and mark that folder the date's latest."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from ecomdwh.run_ids import new_run_id

    own_folder = folder is None
    folder = folder or report_folder(settings, kind, day, run_id or new_run_id())
    folder.mkdir(parents=True, exist_ok=True)
    source = notebooks_dir(settings) / NOTEBOOKS[kind]
    executed = folder / f"{kind}.ipynb"
    error = None
    kernel.ensure_kernel()
    # The kernel takes its environment from this process: hand it these settings, overrides included.
    saved = dict(os.environ)
    os.environ.update(settings.child_env())
    os.environ.pop(kernel.LAB_ENV, None)  # a report is a static page, also when run from a terminal in Lab
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
            # Every output is written by the time the last cell ends; the kernel's own clean-up (its atexit
            # hooks, a graceful wait) would only delay the report.
            shutdown_kernel="immediate",
            # The kernel talks to us over loopback only; its transport warning is noise in every run.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
        without_papermill_boilerplate(executed)
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
    # A notebook that ran to its end can still report a failed verdict (the reconciliation's checks).
    error = error or notebook_verdict(folder)
    html = export_html(executed, folder / f"{kind}.html")
    if own_folder:
        mark_latest(folder)
    # Copied also when the notebook failed: a failed reconciliation's report is the one most wanted.
    uri = publish(settings, folder, kind, day)
    return Report(folder, executed, html, error, uri)
