"""Running the committed Great Expectations checkpoints on the measured frames.

The GX project in expectations/gx (suites, validation definitions, one checkpoint
per frame) is copied into the report folder and run there, so every report keeps
the exact suites it was checked against, its validation results and its Data Docs,
and the repository is never written to. Thresholds are suite parameters, given
per run (tolerance, unknown-member share, freshness SLA).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Failure:
    suite: str
    layer: str
    check: str
    row: str  # the entity, day or dimension the check failed for
    detail: str

    def sentence(self) -> str:
        return f"{self.layer}: {self.row}: {self.detail} ({self.check})"


@dataclass
class CheckResult:
    suite: str
    expectation: str
    layer: str
    check: str
    success: bool
    failures: list[Failure] = field(default_factory=list)


def gx_context(source: Path, folder: Path):
    """A file-backed GX context on a copy of the committed project (`source`) inside `folder`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    project = folder / "gx"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("uncommitted"))
    return gx.get_context(mode="file", project_root_dir=str(folder))


def _resolve(value: object, parameters: dict) -> object:
    return parameters.get(value["$PARAMETER"]) if isinstance(value, dict) and "$PARAMETER" in value else value


def _columns(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _detail(frame: pd.DataFrame, index_column: str, row_id: object, columns: list[str], kwargs: dict) -> str:
    row = frame.loc[frame[index_column].astype(str) == str(row_id)].iloc[0]
    if len(columns) == 2:
        a, b = (row[c] for c in columns)
        numeric = pd.api.types.is_number(a) and pd.api.types.is_number(b)
        difference = f"{b - a:+}" if numeric else "values differ"
        return f"{columns[0]} {a} vs {columns[1]} {b} (difference {difference})"
    value = row[columns[0]]
    bounds = ", ".join(f"{k} {kwargs[k]}" for k in ("min_value", "max_value") if kwargs.get(k) is not None)
    return f"{columns[0]} is {value}" + (f", allowed {bounds}" if bounds else ", not allowed")


def run_checkpoint(context, name: str, frame: pd.DataFrame, parameters: dict) -> list[CheckResult]:
    checkpoint = context.checkpoints.get(name)
    index_column = checkpoint.result_format["unexpected_index_column_names"][0]
    result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
    checks = []
    for validation in result.run_results.values():
        for r in validation.results:
            config = r.expectation_config
            meta = config.meta or {}
            # Suite parameters ({"$PARAMETER": name}) resolved, so a failure shows the bound it broke.
            kwargs = {k: _resolve(v, parameters) for k, v in config.kwargs.items()}
            check = CheckResult(name, config.type, meta.get("layer", name), meta.get("check", config.type), r.success)
            if not r.success:
                rows = [i.get(index_column) for i in (r.result or {}).get("unexpected_index_list") or []]
                for row_id in dict.fromkeys(rows):
                    detail = _detail(frame, index_column, row_id, _columns(kwargs), kwargs)
                    check.failures.append(Failure(name, check.layer, check.check, str(row_id), detail))
                if not rows:  # a table-level expectation: no single row to name
                    observed = (r.result or {}).get("observed_value")
                    check.failures.append(Failure(name, check.layer, check.check, name, f"observed {observed}"))
            checks.append(check)
    return checks


def build_data_docs(context, folder: Path) -> Path:
    """One Data Docs build after every checkpoint ran (per-checkpoint builds cost seconds each)."""
    context.build_data_docs()
    return data_docs_index(folder)


def data_docs_index(folder: Path) -> Path:
    return folder / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
