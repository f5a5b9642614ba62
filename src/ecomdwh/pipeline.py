"""`ecomdwh run`: the pipeline's spine, the local twin of the Step Functions state machine.

The steps, their names and their order are the state machine's task states
(terraform/modules/orchestration/pipeline.asl.json). A step reports success only when
what it checks held: a failed reconciliation fails the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from ecomdwh import lake, landing
from ecomdwh.errors import UserError
from ecomdwh.progress import Quiet, Reporter
from ecomdwh.run_ids import new_run_id
from ecomdwh.run_steps import STEP_NAMES, run_date
from ecomdwh.settings import Settings

Status = Literal["ok", "failed", "skipped"]


@dataclass
class RunContext:
    settings: Settings
    source_dir: Path
    only_date: str | None = None
    log: Callable[[str], None] = print
    # Where the long steps show their progress (files, entity jobs, dbt nodes); nothing by default.
    progress: Reporter = field(default_factory=Quiet)
    # The day the run reports on, when the source knows it better than its last landing day (Olist).
    run_day: str | None = None
    # Names the run's record in the ops schema and its report folders.
    run_id: str = field(default_factory=new_run_id)
    # Filled by the steps, read by later ones and by the run's record.
    days: list[str] = field(default_factory=list)
    manifests: list[dict] = field(default_factory=list)
    dbt_results: list[dict] = field(default_factory=list)  # this run's dbt run_results
    reports: dict = field(default_factory=dict)  # kind -> reports.Report


@dataclass
class StepOutcome:
    status: Status
    detail: str
    seconds: float = 0.0


Step = Callable[[RunContext], StepOutcome]


def land_step(ctx: RunContext) -> StepOutcome:
    files = landing.plan(ctx.source_dir, ctx.only_date)
    ctx.days = landing.landing_days(files)
    uploaded = unchanged = 0
    landed = landing.landed_keys(ctx.settings, files)  # one listing for every day's call
    with ctx.progress.task("landing files", total=len(files), unit="file(s)") as task:
        for day in ctx.days:
            day_files = [f for f in files if f.ingest_date == day]
            result = landing.land(ctx.settings, day_files, on_file=task.advance, landed=landed)
            uploaded += len(result.uploaded)
            unchanged += len(result.unchanged)
            ctx.log(f"landed {day}: {len(result.uploaded)} new, {len(result.unchanged)} already there")
    span = ctx.days[0] if len(ctx.days) == 1 else f"{ctx.days[0]}..{ctx.days[-1]}"
    return StepOutcome(
        "ok",
        f"{len(ctx.days)} landing day(s) {span}: {uploaded} file(s) uploaded, {unchanged} already landed, "
        f"in s3://{ctx.settings.raw_bucket}",
    )


def glue_step(ctx: RunContext) -> StepOutcome:
    from ecomdwh.contract import ENTITIES
    from glue_local.runtime import runner, session

    with ctx.progress.task("starting Spark"):
        spark = session.spark_for_command(ctx.settings, batch_bytes=lambda: lake.new_raw_bytes(ctx.settings))
    if (held := session.attached()) is not None:
        ctx.log(f"Spark: attached to the Glue session (pid {held.pid})")
    failed: runner.EntityJobsFailed | None = None
    with ctx.progress.task("Glue jobs", total=len(ENTITIES), unit="entities") as task:

        def done(manifest: dict, seconds: float) -> None:
            ctx.log(runner.manifest_line(manifest, seconds))
            task.advance()

        try:
            manifests = runner.run_bronze_to_silver(spark, ctx.settings, ingest_date=ctx.only_date, on_done=done)
        except runner.EntityJobsFailed as exc:
            failed, manifests = exc, exc.manifests
    ctx.manifests = manifests
    read = sum(m["rows_read"] for m in manifests)
    written = sum(m["rows_written"] for m in manifests)
    quarantined = sum(m["rows_quarantined_total"] for m in manifests)
    deduplicated = sum(m["rows_deduplicated"] for m in manifests)
    if failed is not None:
        return StepOutcome("failed", str(failed))
    return StepOutcome(
        "ok",
        f"{len(manifests)} entity job(s): {read} rows read = {written} written + {quarantined} quarantined "
        f"+ {deduplicated} deduplicated, in s3://{ctx.settings.staging_bucket}/silver",
    )


def load_step(ctx: RunContext) -> StepOutcome:
    from ecomdwh.warehouse.load import load

    result = load(ctx.settings)
    if result.note():
        ctx.log(result.note())
    for entity, rows in sorted((+result.loaded).items()):
        ctx.log(f"loaded {rows} new {entity} row(s)")
    where = ctx.settings.target if ctx.settings.target != "local" else str(ctx.settings.warehouse_path)
    skipped = sum(result.already_loaded.values())
    already = f" ({skipped} already there, not loaded twice)" if skipped else ""
    return StepOutcome("ok", f"{sum(result.loaded.values())} new silver row(s) into {where} schema silver{already}")


def dbt_step(ctx: RunContext) -> StepOutcome:
    from ecomdwh import dbt_runner

    started = time.time()
    try:
        with ctx.progress.task("dbt build", unit="nodes") as task:

            def node_done(total: int) -> None:
                task.update(total=total)
                task.advance()

            dbt_runner.build(ctx.settings, on_node=node_done)
    finally:
        ctx.dbt_results = this_builds_results(ctx.settings, started)
    return StepOutcome("ok", f"dbt build on {ctx.settings.target}: {dbt_runner.describe(ctx.dbt_results)}")


def this_builds_results(settings: Settings, since: float) -> list[dict]:
    """The nodes of dbt's run_results that this build ran (not an earlier command's, when dbt failed early)."""
    from ecomdwh import dbt_runner

    def ran_since(result: dict) -> bool:
        ends = [t.get("completed_at") for t in result.get("timing") or [] if t.get("completed_at")]
        return any(datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp() >= since for end in ends)

    return [r for r in dbt_runner.run_results(settings) if ran_since(r)]


def reconcile_step(ctx: RunContext) -> StepOutcome:
    from ecomdwh import reconcile

    day = run_date(ctx)
    report = reconcile.run_report(ctx.settings, day, run_id=ctx.run_id)
    ctx.reports["reconcile"] = report
    if not report.ok:
        return StepOutcome("failed", f"reconciliation of {day} failed: {report.error} (see {report.html})")
    return StepOutcome("ok", f"every layer reconciles for {day}; report {report.html}")


def report_step(ctx: RunContext) -> StepOutcome:
    from ecomdwh import reports

    day = run_date(ctx)
    parameters = {"target": ctx.settings.target, "start_date": None, "end_date": None}
    report = reports.run_notebook(ctx.settings, "analytics", day, parameters, run_id=ctx.run_id)
    ctx.reports["analytics"] = report
    if not report.ok:
        return StepOutcome("failed", f"the analytics notebook failed: {report.error} (see {report.notebook})")
    return StepOutcome("ok", f"analytics report {report.html}")


# The state machine's task states, in order (one graph, two runners).
STEPS: list[tuple[str, Step]] = [
    ("land", land_step),
    ("glue", glue_step),
    ("load", load_step),
    ("dbt", dbt_step),
    ("reconcile", reconcile_step),
    ("report", report_step),
]

assert [name for name, _ in STEPS] == STEP_NAMES, "run_steps.STEP_NAMES names pipeline.STEPS in order"


def run(
    ctx: RunContext,
    steps: list[tuple[str, Step]] | None = None,
    on_start: Callable[[str], None] = lambda name: None,
    on_done: Callable[[str, StepOutcome], None] = lambda name, outcome: None,
) -> list[tuple[str, StepOutcome]]:
    """Run the steps in order; after a failure the remaining steps are skipped."""
    outcomes: list[tuple[str, StepOutcome]] = []
    failed = False
    for name, step in steps or STEPS:
        if failed:
            outcomes.append((name, StepOutcome("skipped", "an earlier step failed")))
            on_done(name, outcomes[-1][1])
            continue
        on_start(name)
        started = time.monotonic()
        try:
            outcome = step(ctx)
        except UserError as exc:
            outcome = StepOutcome("failed", str(exc))
        except Exception as exc:  # a bug or an outage: report it as the step's failure
            outcome = StepOutcome("failed", f"unexpected {type(exc).__name__}: {exc}")
        failed = outcome.status == "failed"
        outcome.seconds = time.monotonic() - started
        outcomes.append((name, outcome))
        on_done(name, outcome)
    return outcomes
