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
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


@dataclass
class Failure:
    suite: str
    layer: str
    check: str
    row: str  # the entity, day or dimension the check failed for
    detail: str
    expected: str = ""  # what the check wanted, e.g. "rows_written 120" or "at most 0.1"
    found: str = ""  # what it found, e.g. "silver_rows 119"

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


def _expected_found(
    frame: pd.DataFrame, index_column: str, row_id: object, columns: list[str], kwargs: dict
) -> tuple[str, str]:
    """What a row-level check wanted and what it found, for a person: a pair's first column is the earlier
    layer (expected), its second the later one (found); a single column is held to its bounds."""
    row = frame.loc[frame[index_column].astype(str) == str(row_id)].iloc[0]
    if len(columns) == 2:
        return f"{columns[0]} {row[columns[0]]}", f"{columns[1]} {row[columns[1]]}"
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if high is not None and not low:  # a count, share or absolute difference: zero is its floor
        expected = f"at most {high}"
    elif high is not None:
        expected = f"between {low} and {high}"
    elif low is not None:
        expected = f"at least {low}"
    else:
        expected = "a value"
    return f"{columns[0]} {expected}", f"{columns[0]} {row[columns[0]]}"


def run_identifier(run_date: str, folder: Path):
    """The GX run of a reconciliation: named by its date and run id (the report folder's name), so Data Docs
    list "2026-03-14 20261201T101530123Z-3fa9c1" instead of "__none__"; one run time for all its checkpoints."""
    from great_expectations.core.run_identifier import RunIdentifier

    name = run_date if folder.name == run_date else f"{run_date} {folder.name}"
    return RunIdentifier(run_name=name, run_time=datetime.now(UTC))


def asset_name(name: str, layers: list[str]) -> str:
    """A measured frame's data asset name, layer.frame: `gold.money`; `bronze-gold.layer_counts` for a frame
    whose checks span layers (first to last)."""
    ordered = list(dict.fromkeys(layers)) or ["reconciliation"]
    span = ordered[0] if len(ordered) == 1 else f"{ordered[0]}-{ordered[-1]}"
    return f"{span}.{name}"


def run_checkpoint(context, name: str, frame: pd.DataFrame, parameters: dict, run_id=None) -> list[CheckResult]:
    checkpoint = context.checkpoints.get(name)
    index_column = checkpoint.result_format["unexpected_index_column_names"][0]
    result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters, run_id=run_id)
    _name_assets(context, name, result)
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
                    wanted = _expected_found(frame, index_column, row_id, _columns(kwargs), kwargs)
                    check.failures.append(Failure(name, check.layer, check.check, str(row_id), detail, *wanted))
                if not rows:  # a table-level expectation: no single row to name
                    observed = (r.result or {}).get("observed_value")
                    expected = ", ".join(map(str, kwargs.get("value_set") or [])) or "-"
                    failure = Failure(
                        name, check.layer, check.check, name, f"observed {observed}", expected, f"{observed}"
                    )
                    check.failures.append(failure)
            checks.append(check)
    return checks


def _name_assets(context, name: str, result) -> None:
    """Give the stored validation results their data asset's name: GX's pages read it from the batch spec, which
    a dataframe batch leaves without one (the page said "Data asset: None")."""
    for key, validation in result.run_results.items():
        layers = [(r.expectation_config.meta or {}).get("layer", "") for r in validation.results]
        spec = validation.meta.get("batch_spec")
        if spec is None:
            continue
        spec["data_asset_name"] = asset_name(name, [layer for layer in layers if layer])
        context.validation_results_store.set(key, validation)


def build_data_docs(context, folder: Path) -> Path:
    """One Data Docs build after every checkpoint ran (per-checkpoint builds cost seconds each); the pages load
    Bootstrap, jQuery and the rest from local copies in static/vendor/ beside them, not from CDNs."""
    from ecomdwh import docs_site

    context.build_data_docs()
    index = data_docs_index(folder)
    vendor = docs_site.copy_static(index.parent / "static" / "vendor")
    docs_site.offline_data_docs(index.parent, vendor)
    return index


def data_docs_index(folder: Path) -> Path:
    return folder / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
