"""Reconciliation of every layer, bronze -> silver -> quarantine -> warehouse -> gold, with Great Expectations.

    from ecomdwh import reconcile
    result = reconcile.reconcile("2026-03-14")      # measures, validates, writes summary.json and Data Docs
    result.raise_if_failed()                          # one message naming layer, entity and difference

The layers are reconciled as they stand (everything landed and committed so far);
the run date names the report and is what freshness is measured against.
`ecomdwh report reconcile --date D` runs notebooks/reconciliation.ipynb, which calls this.

Each check has one owner: GX (here) owns what spans layers or is held to a threshold (layer counts, money,
unknown-member shares, freshness); dbt's tests own what holds inside the warehouse (keys, SCD2 versions,
enum domains). The report shows both: the dbt tests of the last build recorded in the run history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ecomdwh import lake, run_history
from ecomdwh.errors import UserError
from ecomdwh.reconcile import checks, measure
from ecomdwh.reconcile.measure import Layers
from ecomdwh.settings import Settings, get_settings

SUMMARY = "summary.json"


class ReconciliationFailed(Exception):
    """At least one check failed; the message names each layer, row and difference."""


@dataclass
class Reconciliation:
    run_date: str
    target: str
    layers: Layers
    checks: list[checks.CheckResult]
    folder: Path
    dbt_tests: run_history.BuildTests | None = None  # None: no build recorded in the run history

    @property
    def passed(self) -> bool:
        """Every GX check held and the last recorded build's dbt tests passed.

        A failed dbt test fails the reconciliation too: the report is the one page that says whether the
        warehouse can be trusted, so it must not read "passed" over a broken in-warehouse invariant. No
        recorded build (a warehouse built outside `ecomdwh run`) does not fail it; the report says so.
        """
        return all(c.success for c in self.checks) and (self.dbt_tests is None or self.dbt_tests.passed)

    @property
    def failures(self) -> list[checks.Failure]:
        return [f for c in self.checks for f in c.failures]

    @property
    def summary_path(self) -> Path:
        return self.folder / SUMMARY

    @property
    def data_docs(self) -> Path:
        return checks.data_docs_index(self.folder)

    def message(self) -> str:
        if self.passed:
            return f"every check passed for {self.run_date} on {self.target}"
        failed = [f.sentence() for f in self.failures]
        if self.dbt_tests is not None and not self.dbt_tests.passed:
            failed.append(self.dbt_tests.sentence())
        return "; ".join(failed)

    def check_table(self) -> pd.DataFrame:
        """One row per expectation: the layer, what it checks, and whether it held."""
        return pd.DataFrame(
            [
                {
                    "layer": c.layer,
                    "suite": c.suite,
                    "check": c.check,
                    "passed": c.success,
                    "failed for": ", ".join(f.row for f in c.failures),
                }
                for c in self.checks
            ]
        )

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise ReconciliationFailed(self.message())

    def summary(self) -> dict:
        return {
            "run_date": self.run_date,
            "target": self.target,
            "passed": self.passed,
            "message": self.message(),
            "failures": [vars(f) | {"sentence": f.sentence()} for f in self.failures],
            "checks": [
                {k: v for k, v in vars(c).items() if k != "failures"} | {"failed_for": [f.row for f in c.failures]}
                for c in self.checks
            ],
            "frames": {name: _records(frame) for name, frame in self.layers.frames().items()},
            "dbt_tests": (vars(self.dbt_tests) | {"passed": self.dbt_tests.passed}) if self.dbt_tests else None,
            "data_docs": str(self.data_docs),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def reconcile(
    run_date: str,
    target: str | None = None,
    tolerance: float = 0.0,
    report_dir: str | Path | None = None,
    max_unknown_share: float = 0.10,
    freshness_sla_days: int = 1,
    settings: Settings | None = None,
) -> Reconciliation:
    """Measure every layer, run the committed GX checkpoints, write summary.json and Data Docs."""
    from ecomdwh import reports
    from ecomdwh.run_ids import new_run_id
    from ecomdwh.warehouse.connection import connect, resolve_target

    settings = settings or get_settings()
    target = resolve_target(settings, target)
    # Outside a report run (a notebook opened by hand) the result still gets a run folder of its own.
    folder = Path(report_dir) if report_dir else reports.report_folder(settings, "reconcile", run_date, new_run_id())
    folder.mkdir(parents=True, exist_ok=True)
    con = connect(settings, target, read_only=True)
    try:
        check_lake_matches_warehouse(settings, con)
        layers = measure.measure(settings, con, run_date)
        dbt_tests = run_history.last_build_tests(con)
    finally:
        con.close()
    context = checks.gx_context(settings.root / "expectations" / "gx", folder)
    parameters = {
        "money_tolerance": float(tolerance),
        "max_unknown_share": float(max_unknown_share),
        "freshness_sla_days": int(freshness_sla_days),
    }
    run_id = checks.run_identifier(run_date, folder)  # Data Docs name the run by its date and run id
    results = [
        check
        for name, frame in layers.frames().items()
        for check in checks.run_checkpoint(context, name, frame, parameters, run_id)
    ]
    checks.build_data_docs(context, folder)
    result = Reconciliation(run_date, target, layers, results, folder, dbt_tests)
    result.summary_path.write_text(json.dumps(result.summary(), indent=2, default=str) + "\n")
    if not report_dir:
        reports.mark_latest(folder)
    return result


def check_lake_matches_warehouse(settings: Settings, con) -> None:
    """Refuse to compare a warehouse with a lake it was not loaded from (an emptied or replaced lake)."""
    from ecomdwh.warehouse import read_sql, schema

    recorded = read_sql(
        con,
        "select count(*) as n from information_schema.tables "
        f"where table_schema = '{schema.SCHEMA}' and table_name = '{schema.LAKES}'",
    )
    if not int(recorded.iloc[0, 0]):  # never loaded
        return
    lakes = read_sql(con, f"select lake_id from {schema.SCHEMA}.{schema.LAKES} order by first_loaded_at")
    if lakes.empty:
        return
    current = lake.lake_id(settings)
    if current == lakes["lake_id"].iloc[-1] and lake.has_committed_runs(settings):
        return
    same = current == lakes["lake_id"].iloc[-1]
    what = "is empty" if current is None or same else "is not the one the warehouse was last loaded from"
    raise UserError(
        f"The lake in s3://{settings.staging_bucket} {what} (a restarted S3 emulator starts empty), so its layers "
        "cannot be reconciled with the warehouse; run `ecomdwh run` to land and rebuild it (rows already in the "
        "warehouse are recognised by content and not loaded twice)."
    )


def run_report(
    settings: Settings, run_date: str, target: str | None = None, run_id: str | None = None, **thresholds: float
):
    """The reconciliation notebook, run by papermill into reports/reconcile/<date>/<run id>/.

    `thresholds`: tolerance, max_unknown_share, freshness_sla_days (the notebook's defaults otherwise).
    """
    from ecomdwh import reports
    from ecomdwh.warehouse.connection import connect

    con = connect(settings, target, read_only=True)
    try:
        check_lake_matches_warehouse(settings, con)
    finally:
        con.close()

    parameters = {"run_date": run_date, "target": target or settings.target, **thresholds}
    return reports.run_notebook(settings, "reconcile", run_date, parameters, run_id=run_id)
