"""The `ecomdwh` command line: typer for the commands, rich for what a person reads."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer import _click as typer_click
from typer.core import TyperGroup

from ecomdwh import kernel, lake, landing, pipeline, run_history, run_ids, run_steps, writer_lock
from ecomdwh.devtools import emulator, toolchain
from ecomdwh.errors import UserError, explain
from ecomdwh.progress import Reporter
from ecomdwh.settings import EMULATOR_BACKENDS, Settings, get_settings

# No markup: messages carry S3 URLs, paths and Java exception text, in which "[...]" is literal.
console = Console(markup=False)
app = typer.Typer(
    help="The ecommerce warehouse workbench: land bronze, run Glue jobs, build dbt gold, reconcile.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
emulator_app = typer.Typer(help="The local S3 emulator (LocalStack on the host, or moto).", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from exc


@contextmanager
def _writer(command: str) -> Iterator[None]:
    """Hold the project/env writer lock around a command that changes the lake or the warehouse."""
    with writer_lock.hold(get_settings(), command):
        yield


# --- setup -------------------------------------------------------------------------------------------------------


@app.command()
def setup() -> None:
    """Install what runs beside the project venv (LocalStack's and checkov's venvs, the s3a jars, the runtime's
    Java classes)."""
    settings = get_settings()
    with console.status("LocalStack 4.13.1 in its own venv..."):
        installed = toolchain.ensure_localstack(settings)
    console.print(f"LocalStack venv: {'installed' if installed else 'already in place'} ({settings.localstack_python})")
    with console.status("s3a jars from the sagemaker_pyspark sdist..."):
        fetched = toolchain.ensure_s3a_jars(settings)
    console.print(f"s3a jars: {'fetched and verified' if fetched else 'already verified'} ({settings.jars_dir})")
    with console.status("compiling the local Spark runtime's committer and S3 filesystem..."):
        built = toolchain.ensure_runtime_jar(settings)
    if built is None:
        console.print(
            "runtime classes: no javac here, so Spark writes to S3 through Hadoop's slower file committer and "
            "probes S3 before each file"
        )
    else:
        state = "compiled" if built else "already compiled"
        console.print(f"runtime classes: {state} ({toolchain.runtime_jar(settings)})")
    with console.status("recording Spark's classes for a faster JVM start..."):
        from glue_local.runtime.spark import class_archive, ensure_class_archive

        made = ensure_class_archive(settings)
    console.print(f"Spark class archive: {'recorded' if made else 'already in place'} ({class_archive(settings)})")
    with console.status("checkov in its own venv..."):
        installed = toolchain.ensure_checkov(settings)
    checkov = toolchain.checkov_bin(settings)
    console.print(f"checkov venv: {'installed' if installed else 'already in place'} ({checkov})")

    registered = kernel.ensure_kernel()
    console.print(f"Jupyter kernel: {'registered' if registered else 'already registered'} ({kernel.KERNEL_NAME})")


# --- emulator ----------------------------------------------------------------------------------------------------

Backend = Annotated[
    str | None,
    typer.Option("--backend", help=f"one of {', '.join(EMULATOR_BACKENDS)} (default: ECOMDWH_EMULATOR or localstack)"),
]


@emulator_app.command("start")
def emulator_start(backend: Backend = None) -> None:
    """Start the emulator on 127.0.0.1 (idempotent) and create the buckets."""
    settings = get_settings()
    with console.status("starting the S3 emulator..."):
        state, started = emulator.start(settings, backend)
    verb = "started" if started else "already running"
    buckets = ", ".join(settings.buckets)
    console.print(f"{state.backend} {verb} at {state.endpoint} (pid {state.pid}); buckets: {buckets}")


@emulator_app.command("stop")
def emulator_stop() -> None:
    """Stop the emulator this workbench started (by its recorded pid only)."""
    state = emulator.stop(get_settings())
    console.print(f"stopped {state.backend} (pid {state.pid})" if state else "no emulator of ours was running")


@emulator_app.command("status")
def emulator_status() -> None:
    """Say whether our emulator runs; exits 1 when it does not."""
    state = emulator.status(get_settings())
    if state is None:
        console.print("not running")
        raise typer.Exit(1)
    console.print(f"{state.backend} running at {state.endpoint} (pid {state.pid}, log {state.log})")


# --- generate ----------------------------------------------------------------------------------------------------


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the bronze layout into")],
    days: Annotated[int, typer.Option("--days", help="landing days")] = 14,
    orders_per_day: Annotated[int, typer.Option("--orders-per-day", help="mean orders per day")] = 850,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same bytes")] = 7,
    bad_rate: Annotated[float, typer.Option("--bad-rate", help="share of bad rows per entity and day")] = 0.02,
    start_date: Annotated[str, typer.Option("--start-date", help="first landing day, YYYY-MM-DD")] = "2026-03-01",
    churn: Annotated[
        bool, typer.Option("--churn", help="customers stop ordering by the churn process (its truth: churn dates)")
    ] = False,
) -> None:
    """Generate deterministic synthetic bronze data per the data contract, with a ground-truth summary."""
    from ecomdwh import generator

    start = date.fromisoformat(_iso_date(start_date) or "")
    process = generator.ChurnProcess() if churn else None
    try:
        truth = generator.generate(out, days, orders_per_day, seed, bad_rate, start, churn=process)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    table = Table("entity", "rows", "quarantined", "duplicates", "written", title=f"bronze written to {out}")
    for entity, totals in truth["totals"].items():
        quarantined = sum(totals["quarantined"].values())
        table.add_row(entity, str(totals["rows"]), str(quarantined), str(totals["duplicates"]), str(totals["written"]))
    console.print(table)


# --- stream ------------------------------------------------------------------------------------------------------


@app.command()
def stream(
    days: Annotated[int, typer.Option("--days", help="days of the world to replay")] = 14,
    orders_per_day: Annotated[int, typer.Option("--orders-per-day", help="mean orders per day")] = 850,
    seed: Annotated[int, typer.Option("--seed", help="the world of `ecomdwh generate --seed`")] = 7,
    start_date: Annotated[str, typer.Option("--start-date", help="first day of the world, YYYY-MM-DD")] = "2026-03-01",
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="shipment_events or payments (default: both)")
    ] = None,
    records: Annotated[int | None, typer.Option("--records", help="stop after this many records")] = None,
    seconds: Annotated[float | None, typer.Option("--seconds", help="stop after this many seconds")] = None,
    rate: Annotated[float, typer.Option("--rate", help="records per second; 0: as fast as possible")] = 100.0,
    late_share: Annotated[
        float, typer.Option("--late-share", help="share of events arriving 1-2 days after their landing day")
    ] = 0.05,
    buffer_seconds: Annotated[
        int, typer.Option("--buffer-seconds", help="local delivery: object after this many seconds of world time")
    ] = 300,
    buffer_mb: Annotated[int, typer.Option("--buffer-mb", help="local delivery: object after this many MiB")] = 64,
) -> None:
    """Stream shipment events and payments of the generator's world to the raw bucket (Firehose on AWS,
    a local stand-in writing the same objects against the emulator). Ctrl-C stops, flushing the buffers."""
    from ecomdwh import streaming

    settings = get_settings()
    start = date.fromisoformat(_iso_date(start_date) or "")
    names = entity or list(streaming.STREAMED)
    if days < 1 or orders_per_day < 1:
        raise UserError("--days and --orders-per-day must be at least 1.")
    if rate < 0 or (records is not None and records < 0) or (seconds is not None and seconds < 0):
        raise UserError("--rate, --records and --seconds cannot be negative.")
    if buffer_seconds < 0 or buffer_mb < 1:
        raise UserError("--buffer-seconds cannot be negative and --buffer-mb must be at least 1.")
    try:
        produced = streaming.world_records(seed, days, orders_per_day, start, late_share, names)
    except ValueError as exc:
        raise UserError(f"{exc}.") from exc
    delivery = streaming.delivery_for(settings, names, buffer_mb * 1024 * 1024, buffer_seconds)
    where = "the local Firehose stand-in" if settings.uses_emulator else "Firehose"
    console.print(f"streaming {len(produced)} records through {where} to {settings.raw_bucket} (Ctrl-C stops)")
    result = streaming.produce(produced, delivery, rate=rate, seconds=seconds, limit=records)
    table = Table("entity", "records", "objects", title=f"streamed to {settings.raw_bucket}")
    for name in names:
        objects = sum(1 for key in result.objects if key.startswith(streaming.ENTITIES[name].path + "/"))
        table.add_row(name, str(result.records[name]), str(objects) if settings.uses_emulator else "(Firehose)")
    console.print(table)
    console.print(f"{result.late} record(s) arrived late (after their landing day).")
    if result.interrupted:
        console.print("Stopped by Ctrl-C; every record sent was delivered.")


# --- land --------------------------------------------------------------------------------------------------------


class _LandGroup(TyperGroup):
    """`ecomdwh land DIR` lands a folder; `ecomdwh land olist PATH` converts an Olist export first."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args.insert(0, "dir")
        return super().resolve_command(ctx, args)


land_app = typer.Typer(
    cls=_LandGroup,
    help="Land files into the raw bucket: `ecomdwh land DIR [--date D]` or `ecomdwh land olist PATH`.",
    no_args_is_help=True,
)
app.add_typer(land_app, name="land")


def _land_folder(folder: Path, only_date: str | None) -> None:
    settings = get_settings()
    files = landing.plan(folder, only_date)
    console.print(emulator.ensure(settings))
    with Reporter(console) as reporter, reporter.task("landing files", len(files), "file(s)") as task:
        result = landing.land(settings, files, on_file=task.advance)
    table = Table("entity", "files uploaded", title=f"landed in s3://{settings.raw_bucket}")
    for entity, count in sorted(result.per_entity().items()):
        table.add_row(entity, str(count))
    console.print(table)
    days = landing.landing_days(files)
    console.print(
        f"{len(result.uploaded)} file(s) uploaded, {len(result.unchanged)} already landed (unchanged), "
        f"{len(days)} landing day(s) {days[0]}..{days[-1]}"
    )


@land_app.command("dir", hidden=True)
def land_dir(
    folder: Annotated[Path, typer.Argument(help="folder holding <source>/<entity>/ingest_date=YYYY-MM-DD/<file>")],
    only_date: Annotated[str | None, typer.Option("--date", help="land only this ingest date")] = None,
) -> None:
    """Land a folder in the bronze layout."""
    day = _iso_date(only_date)
    with _writer("ecomdwh land"):
        _land_folder(folder, day)


DayFirst = Annotated[
    bool | None,
    typer.Option(
        "--day-first/--month-first",
        help="an Olist export's slash dates are D/M/YYYY (or M/D/YYYY); default: detected per column",
    ),
]


def _convert_olist(path: Path, target: Path, day_first: bool | None) -> dict:
    """Convert an Olist export and print, per source file, what became of its rows."""
    from ecomdwh import olist

    try:
        summary = olist.convert_olist(path, target, day_first)
    except ValueError as exc:
        raise UserError(f"{exc}.") from exc
    # One line per source file, its rows accounted for: lines, unlike a table's cells, are never cut.
    lines = [f"converted {path}:"]
    for r in summary["files"]:
        if r.file is None:
            lines.append(f"  {olist.FILES[r.table]}: {'; '.join(r.notes)}")
            continue
        parts = [f"{r.landed} landed", f"{r.blank} blank skipped"]
        parts += [f"{n} skipped ({reason})" for reason, n in sorted(r.skipped.items())]
        line = f"  {r.file}: {r.source_rows} source rows = {' + '.join(parts)}"
        if r.key_seen_before:
            line += f"; {r.key_seen_before} with a key seen before (landed: the Glue jobs apply the contract)"
        lines.append(line)
        lines += [f"    {note}" for note in r.notes]
    if summary["unused_files"]:
        lines.append(f"  not used: {', '.join(summary['unused_files'])}")
    rows = ", ".join(f"{k} {v}" for k, v in summary["rows"].items())
    lines.append(f"bronze rows: {rows}; last purchase day {summary['last_purchase_day']}")
    for line in lines:
        console.print(line, soft_wrap=True)
    return summary


@land_app.command("olist")
def land_olist(
    path: Annotated[Path, typer.Argument(help="folder with the Olist CSVs (olist_*_dataset.csv)")],
    out: Annotated[Path | None, typer.Option("--out", help="keep the converted bronze files here")] = None,
    day_first: DayFirst = None,
) -> None:
    """Map the public Olist export into the bronze contract and land it, one landing day per purchase date."""
    with _writer("ecomdwh land olist"), tempfile.TemporaryDirectory(prefix="olist-bronze-") as tmp:
        target = out or Path(tmp)
        _convert_olist(path, target, day_first)
        _land_folder(target, None)


# --- glue ------------------------------------------------------------------------------------------------------

glue_app = typer.Typer(
    help="Run the Glue job scripts locally, unchanged, on pyspark + the S3 emulator.", no_args_is_help=True
)
app.add_typer(glue_app, name="glue")

Entities = Annotated[list[str] | None, typer.Option("--entity", help="only these entities (repeatable; default all)")]


def _glue_script(job: str) -> str:
    from glue_local.runtime import runner

    if job not in runner.job_scripts():
        raise UserError(f"There is no Glue job {job!r}; the jobs are {', '.join(runner.job_scripts())}.")
    return job


@glue_app.command("run")
def glue_run(
    job: Annotated[str, typer.Argument(help="the job script in glue_local/jobs, e.g. bronze_to_silver")],
    entity: Entities = None,
    only_date: Annotated[str | None, typer.Option("--date", help="read only this ingest date")] = None,
    bookmark: Annotated[
        str,
        typer.Option("--job-bookmark-option", help="job-bookmark-enable | job-bookmark-pause | job-bookmark-disable"),
    ] = "job-bookmark-enable",
) -> None:
    """Run a Glue job for each entity, as Glue would (argv, GlueContext, bookmarks), and print its manifests."""
    from glue_local.runtime import runner, session, standin

    _glue_script(job)
    if bookmark not in standin.BOOKMARK_OPTIONS:
        raise UserError(f"--job-bookmark-option must be one of {', '.join(standin.BOOKMARK_OPTIONS)}.")
    day = _iso_date(only_date)
    settings = get_settings()
    with _writer(f"ecomdwh glue run {job}"), Reporter(console) as reporter:
        with reporter.task("starting Spark"):
            spark = session.spark_for_command(settings, batch_bytes=lambda: lake.new_raw_bytes(settings))
        if (held := session.attached()) is not None:
            reporter.log(f"Spark: attached to the Glue session (pid {held.pid})")
        names = runner.entity_names(entity)
        with reporter.task(f"{job} jobs", total=len(names), unit="entities") as task:

            def done(manifest: dict, seconds: float) -> None:
                task.log(runner.manifest_line(manifest, seconds))
                task.advance()

            try:
                manifests = runner.run_bronze_to_silver(spark, settings, names, day, bookmark, on_done=done)
            except runner.EntityJobsFailed as failed:
                if failed.manifests:
                    reporter.log(manifest_table(failed.manifests))
                raise
    console.print(manifest_table(manifests))


def manifest_table(manifests: list[dict]) -> Table:
    table = Table(
        "entity", "files", "read", "written", "quarantined", "deduplicated", "schema drift", title="run manifests"
    )
    for m in manifests:
        reasons = ", ".join(f"{k} {v}" for k, v in m["rows_quarantined"].items())
        quarantined = f"{m['rows_quarantined_total']}" + (f" ({reasons})" if reasons else "")
        drift = ", ".join(sorted({c for d in m["schema_drift"] for c in d["extra_columns"]})) or "-"
        table.add_row(
            m["entity"], str(len(m["files_read"])), str(m["rows_read"]), str(m["rows_written"]), quarantined,
            str(m["rows_deduplicated"]), drift,
        )  # fmt: skip
    return table


@glue_app.command("package")
def glue_package(
    out: Annotated[Path, typer.Option("--out", help="where to write the zip")] = Path("dist/glue_etl.zip"),
) -> None:
    """Build the --extra-py-files zip (glue_local.etl and the contract) that terraform uploads beside the scripts."""
    from glue_local.runtime.package import build_etl_zip

    console.print(f"wrote {build_etl_zip(out)}")


@glue_app.command("reset-bookmark")
def glue_reset_bookmark(
    job: Annotated[str, typer.Argument(help="the job script, e.g. bronze_to_silver")],
    entity: Entities = None,
) -> None:
    """Forget what the job has processed, so its next run reads every landed file again."""
    from ecomdwh.contract import ENTITIES
    from glue_local.runtime import runner, session

    _glue_script(job)
    settings = get_settings()
    with _writer(f"ecomdwh glue reset-bookmark {job}"):
        spark = session.spark_for_command(settings)
        for name in entity or list(ENTITIES):
            job_name = runner.job_name(settings, job, name)
            done = runner.reset_bookmark(spark, settings, job_name)
            console.print(f"{job_name}: {'bookmark reset' if done else 'had no bookmark'}")


session_app = typer.Typer(
    help="A Glue session: one warm Spark driver that `ecomdwh glue run` and `ecomdwh run` attach to, one at a time.",
    no_args_is_help=True,
)
glue_app.add_typer(session_app, name="session")


@session_app.command("start")
def glue_session_start(
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", min=0.01, help="stop after this long with no command attached")
    ] = 60.0,
) -> None:
    """Start the session on 127.0.0.1 (idempotent); commands with the same Spark settings attach to it."""
    from ecomdwh.devtools import glue_session

    with console.status("starting the Glue session (Spark)..."):
        state, started = glue_session.start(get_settings(), idle_minutes)
    verb = "started" if started else "already running"
    console.print(f"Glue session {verb} (pid {state.pid}, stops after {state.idle_minutes:g} idle minutes)")


@session_app.command("stop")
def glue_session_stop() -> None:
    """Stop the session (by its recorded pid only)."""
    from ecomdwh.devtools import glue_session

    state = glue_session.stop(get_settings())
    console.print(f"stopped the Glue session (pid {state.pid})" if state else "no Glue session was running")


@session_app.command("status")
def glue_session_status() -> None:
    """Say whether a session runs and whether this shell's commands would attach to it; exits 1 when none runs."""
    from ecomdwh.devtools import glue_session
    from glue_local.runtime import session

    settings = get_settings()
    state = glue_session.status(settings)
    if state is None:
        console.print("no Glue session is running")
        raise typer.Exit(1)
    fits = state.spark_settings == session.spark_settings_hash(settings)
    console.print(
        f"Glue session running since {state.started_at} (pid {state.pid}, log {state.log}); "
        + (
            "commands here attach to it"
            if fits
            else "it runs with other Spark settings, so commands here start their own Spark"
        )
    )


# --- warehouse -------------------------------------------------------------------------------------------------

Target = Annotated[
    str | None, typer.Option("--target", help="local | pg | redshift (default: ECOMDWH_TARGET or local)")
]


@app.command()
def load(target: Target = None, entity: Entities = None) -> None:
    """Load committed silver partitions into the warehouse's `silver` schema (each partition once)."""
    from ecomdwh.warehouse.load import load as load_silver

    settings = get_settings()
    with _writer("ecomdwh load"), console.status("loading silver..."):
        result = load_silver(settings, target, entity)
    if result.note():
        console.print(result.note())
    table = Table("entity", "rows loaded", "already in the warehouse", title=f"silver -> {target or settings.target}")
    for name in sorted(set(result.loaded) | set(result.already_loaded)):
        table.add_row(name, str(result.loaded[name]), str(result.already_loaded[name]))
    console.print(table if table.row_count else "nothing new to load: every committed row is already in the warehouse")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def dbt(ctx: typer.Context) -> None:
    """Run dbt on the project with its profile, e.g. `ecomdwh dbt build --target pg` (arguments pass through)."""
    from ecomdwh import dbt_runner

    args = list(ctx.args)
    command = dbt_runner.dbt_subcommand(args)
    if command in dbt_runner.DBT_WRITERS:
        with _writer(f"ecomdwh dbt {command}"):
            result = dbt_runner.run_dbt(get_settings(), args)
    else:
        result = dbt_runner.run_dbt(get_settings(), args)
    if result.returncode != 0:
        raise typer.Exit(result.returncode)


# --- reports and notebooks -------------------------------------------------------------------------------------

report_app = typer.Typer(
    help="Dated notebook reports, run by papermill into reports/<kind>/<date>/<run id>/.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


def _print_report(report) -> None:
    # Paths on lines of their own, never wrapped or cut, so they can be copied whole.
    console.print(f"report: {report.html}", soft_wrap=True)
    console.print(f"executed notebook: {report.notebook}", soft_wrap=True)
    if report.uri:
        console.print(f"copied to: {report.uri}", soft_wrap=True)


def _notebook_report(kind: str, title: str, run_date: str | None, parameters: dict) -> None:
    """Run the `kind` notebook for its date folder, print where it went, and fail in one sentence if it failed."""
    from ecomdwh import reports

    day = _iso_date(run_date) or run_steps.today()
    with console.status(f"running the {title} notebook..."):
        report = reports.run_notebook(get_settings(), kind, day, parameters)
    _print_report(report)
    if not report.ok:
        raise UserError(f"The {title} notebook failed: {report.error} (see {report.notebook}).")


@report_app.command("reconcile")
def report_reconcile(
    run_date: Annotated[
        str | None, typer.Option("--date", help="the run date, YYYY-MM-DD (default: today, UTC)")
    ] = None,
    target: Target = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="money difference allowed per day")] = 0.0,
    max_unknown_share: Annotated[
        float, typer.Option("--max-unknown-share", help="share of fact rows allowed on a dimension's unknown member")
    ] = 0.10,
    freshness_sla_days: Annotated[
        int, typer.Option("--freshness-sla-days", help="newest landing day at most this many days before the date")
    ] = 1,
) -> None:
    """Reconcile bronze, silver, quarantine and gold with Great Expectations; exits 1 if a check fails."""
    from ecomdwh import reconcile, reports

    settings = get_settings()
    day = _iso_date(run_date) or run_steps.today()
    thresholds = {
        "tolerance": tolerance,
        "max_unknown_share": max_unknown_share,
        "freshness_sla_days": freshness_sla_days,
    }
    run_id, started = run_ids.new_run_id(), run_ids.utcnow()
    try:
        with console.status(f"reconciling {day} on {target or settings.target}..."):
            report = reconcile.run_report(settings, day, target, run_id=run_id, **thresholds)
    except Exception as exc:
        # A report that could not run still leaves its record (the failure as the user reads it).
        explained = exc if isinstance(exc, UserError) else explain(exc, settings)
        _record_report(settings, run_id, day, target, started, None, str(explained or f"{type(exc).__name__}: {exc}"))
        raise
    _print_report(report)
    _record_report(settings, run_id, day, target, started, report.folder, report.error)
    if not report.ok:
        raise UserError(f"Reconciliation failed for {day}: {report.error} (details in {report.html}).")
    console.print(Text.assemble(("every check passed", "green"), f" ({report.folder / reports.SUMMARY})"))


def _record_report(settings: Settings, run_id, day, target, started, folder, error) -> None:
    from ecomdwh.warehouse.connection import resolve_target

    chosen = resolve_target(settings, target)
    record = run_history.report_record(settings, run_id, day, chosen, started, folder, error)
    note = run_history.save(settings, record)
    if note:
        console.print(note, soft_wrap=True)


@report_app.command("trends")
def report_trends(
    run_date: Annotated[
        str | None, typer.Option("--date", help="the report's date folder (default: today, UTC)")
    ] = None,
    target: Target = None,
    runs: Annotated[int, typer.Option("--runs", help="chart at most this many of the newest runs", min=2)] = 60,
) -> None:
    """Quality trends over the recorded runs (ops schema), and what changed since the previous run."""
    parameters = {"target": target or get_settings().target, "last_runs": runs}
    _notebook_report("trends", "quality trends", run_date, parameters)


@report_app.command("analytics")
def report_analytics(
    run_date: Annotated[
        str | None, typer.Option("--date", help="the report's date folder (default: today, UTC)")
    ] = None,
    target: Target = None,
    start: Annotated[str | None, typer.Option("--start", help="first order date, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last order date, YYYY-MM-DD")] = None,
) -> None:
    """The sample analytics notebook on gold: revenue, products, customers, payments, shipping."""
    parameters = {"target": target or get_settings().target, "start_date": _iso_date(start), "end_date": _iso_date(end)}
    _notebook_report("analytics", "analytics", run_date, parameters)


@report_app.command("churn")
def report_churn(
    run_date: Annotated[
        str | None, typer.Option("--date", help="the report's date folder (default: today, UTC)")
    ] = None,
    target: Target = None,
    write_scores: Annotated[
        bool, typer.Option("--write-scores/--no-write-scores", help="replace ml.customer_churn_scores")
    ] = True,
) -> None:
    """Churn models on ml_customer_churn_features: a time split, held-out metrics, and the newest cutoff scored."""
    parameters = {"target": target or get_settings().target, "write_scores": write_scores}
    _notebook_report("churn", "churn", run_date, parameters)


@app.command()
def docs(
    out: Annotated[
        Path | None, typer.Option("--out", help="the site's folder (default: <reports dir>/site/), replaced whole")
    ] = None,
    target: Target = None,
    with_dbt: Annotated[
        bool, typer.Option("--dbt/--no-dbt", help="include dbt's docs (they read the warehouse's catalog)")
    ] = True,
) -> None:
    """One offline docs site: dbt's docs, every report, the reconciliations' Data Docs and the run history."""
    from ecomdwh import docs_site

    settings = get_settings()
    with console.status("building the docs site...") as spinner:
        site = docs_site.build(settings, out, target, with_dbt, log=lambda line: spinner.update(line))
    for url in site.dropped:
        console.print(f"left out (no local copy): {url}", soft_wrap=True)
    console.print(f"{len(site.reports)} report run(s); run history: {site.history_note}", soft_wrap=True)
    console.print(f"docs site: {site.index}")


@app.command()
def lab(
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8888,
) -> None:
    """JupyterLab on 127.0.0.1 with the project's kernel, on the repository, opened on notebooks/explore.ipynb."""
    from ecomdwh.devtools import jupyter

    jupyter.lab(get_settings(), port)


# --- run ---------------------------------------------------------------------------------------------------------

_STATUS_STYLE = {"ok": "green", "failed": "bold red", "skipped": "dim"}


@app.command()
def run(
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="bronze folder to land, or olist:DIR for an Olist export (default: the committed sample)"
        ),
    ] = None,
    only_date: Annotated[str | None, typer.Option("--date", help="run for this landing day only")] = None,
    day_first: DayFirst = None,
) -> None:
    """The main job: land bronze day by day, then glue, load, dbt, reconcile and report, in order."""
    settings = get_settings()
    day = _iso_date(only_date)
    olist_dir = Path(source.removeprefix("olist:")).expanduser() if source and source.startswith("olist:") else None
    if day_first is not None and olist_dir is None:
        raise typer.BadParameter("--day-first/--month-first apply to an Olist source (--source olist:DIR) only")
    folder = Path(source) if source and olist_dir is None else settings.sample_dir
    with _writer("ecomdwh run"), tempfile.TemporaryDirectory(prefix="olist-bronze-") as tmp:
        run_day = None
        if olist_dir is not None:
            # The export alone, converted; it reports on its last purchase day, not on a stray later date.
            summary = _convert_olist(olist_dir, Path(tmp), day_first)
            folder, run_day = Path(tmp), None if day else summary["last_purchase_day"]
        reporter = Reporter(console)
        ctx = pipeline.RunContext(settings, folder, day, log=reporter.log, run_day=run_day, progress=reporter)
        with console.status("S3 emulator..."):
            console.print(emulator.ensure(settings))

        started, done = run_history.utcnow(), []
        steps = explaining_steps(pipeline.STEPS)
        names = [name for name, _ in steps]
        current = []  # the step on display

        def on_start(name: str) -> None:
            current.append(reporter.start(f"step {name} ({names.index(name) + 1} of {len(names)})"))

        def on_done(name: str, outcome: pipeline.StepOutcome) -> None:
            while current:
                current.pop().finish()
            done.append((name, outcome))
            reporter.log(step_line(name, outcome))
            if name == "dbt" and outcome.status == "ok":
                # Recorded now, so the reconciliation report shows this build's dbt tests (the last recorded).
                record = run_history.run_record(ctx, done, started, running=True)
                note = run_history.save(settings, record, create_warehouse=True)
                if note:
                    reporter.log(note)

        try:
            with reporter:
                outcomes = pipeline.run(ctx, steps, on_start=on_start, on_done=on_done)
        finally:
            # Also an interrupted run leaves its record, with the steps it did not reach.
            note = run_history.save(settings, run_history.run_record(ctx, done, started), create_warehouse=True)
            console.print(note or f"run {ctx.run_id} recorded in the {settings.target} warehouse's ops schema")

    table = Table("step", "status", "seconds", "detail", title="ecomdwh run")
    table.columns[3].overflow = "fold"  # a long path wraps, never cut with an ellipsis
    for name, outcome in outcomes:
        status = Text(outcome.status, style=_STATUS_STYLE[outcome.status])
        table.add_row(name, status, f"{outcome.seconds:.1f}", Text(outcome.detail))
    console.print(table)
    for kind, report in ctx.reports.items():
        # Each report's path whole, on a line of its own: the table may wrap it.
        console.print(f"{kind} report: {report.html}", soft_wrap=True)
    failed = [(n, o) for n, o in outcomes if o.status == "failed"]
    if failed:
        name, outcome = failed[0]
        raise UserError(f"Step {name} failed: {outcome.detail}")


def step_line(name: str, outcome: pipeline.StepOutcome) -> Text:
    """A step's outcome as one line; its detail is plain text (it can quote an exception)."""
    return Text.assemble((f"{name}: {outcome.status}", _STATUS_STYLE[outcome.status]), f" - {outcome.detail}")


def explaining_steps(steps: list[tuple[str, pipeline.Step]]) -> list[tuple[str, pipeline.Step]]:
    """The steps, each turning a fault we recognise (S3 gone, disk full, ...) into its UserError sentence."""

    def explaining(step: pipeline.Step) -> pipeline.Step:
        def run_step(ctx: pipeline.RunContext) -> pipeline.StepOutcome:
            try:
                return step(ctx)
            except UserError:
                raise
            except Exception as exc:
                explained = explain(exc, ctx.settings)
                if explained is None or ctx.settings.debug:
                    raise
                raise explained from exc

        return run_step

    return [(name, explaining(step)) for name, step in steps]


# --- bench -------------------------------------------------------------------------------------------------------


@app.command()
def bench(
    case: Annotated[list[str] | None, typer.Option("--case", help="run only these cases (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="results folder (default bench/results)")] = None,
    scale: Annotated[
        float, typer.Option("--scale", help="the olist case at this share of its full size, for a quick try")
    ] = 1.0,
) -> None:
    """Run the performance benchmark and write the results to a JSON file; a line per phase as it goes."""
    import json
    import time

    from ecomdwh.devtools import benchmark
    from ecomdwh.devtools.bench.machine import describe

    settings = get_settings()
    chosen = case or list(benchmark.CASES)
    with Reporter(console) as reporter, reporter.task("benchmark", total=len(chosen), unit="cases") as task:

        def progress(line: str) -> None:
            task.log(Text.assemble((time.strftime("%H:%M:%S"), "dim"), " ", line))
            task.update(description=f"benchmark: {line}")

        results, path = benchmark.run(
            settings, case or None, out, scale=scale, progress=progress, on_case=lambda name: task.advance()
        )
    table = Table("case", "goal", "measured", "met", title="benchmark")
    for r in results:
        met = {True: Text("yes", style="green"), False: Text("no", style="red"), None: "-"}[r["goal_met"]]
        table.add_row(r["case"], r["goal"], r["measured"], met)
    console.print(table)
    console.print(describe(json.loads(path.read_text())["machine"]), soft_wrap=True)
    console.print(f"results: {path}", soft_wrap=True)


# --- disaster recovery -------------------------------------------------------------------------------------------

dr_app = typer.Typer(
    help="Disaster recovery of the lake: the replica buckets (<env>-dr), a restore, and the restore drill.",
    no_args_is_help=True,
)
app.add_typer(dr_app, name="dr")


@dr_app.command("replicate")
def dr_replicate() -> None:
    """Copy raw and staging into the replica buckets: the emulator's stand-in for S3 replication."""
    from ecomdwh import recovery

    settings = get_settings()
    with _writer("ecomdwh dr replicate"), console.status("copying the lake to its replica..."):
        result = recovery.replicate(settings)
    console.print(result.sentence(), soft_wrap=True)


@dr_app.command("restore")
def dr_restore() -> None:
    """Copy the lake back from the replica buckets into raw and staging (missing or changed objects only)."""
    from ecomdwh import recovery

    settings = get_settings()
    with _writer("ecomdwh dr restore"), console.status("restoring the lake from its replica..."):
        result = recovery.restore(settings)
    console.print(result.sentence(), soft_wrap=True)


@dr_app.command("drill")
def dr_drill(
    folder: Annotated[
        Path | None, typer.Option("--folder", help="where the rebuilt warehouse and the reconciliation go")
    ] = None,
    max_unknown_share: Annotated[
        float, typer.Option("--max-unknown-share", help="share of fact rows allowed on a dimension's unknown member")
    ] = 0.10,
    freshness_sla_days: Annotated[
        int, typer.Option("--freshness-sla-days", help="newest landing day at most this many days before the date")
    ] = 1,
) -> None:
    """Restore the lake from its replica, rebuild gold in a new DuckDB warehouse, reconcile (exit 1: a check failed)."""
    from ecomdwh import recovery

    settings = get_settings()
    folder = folder or settings.state_dir / "dr-drill" / run_ids.new_run_id()
    with _writer("ecomdwh dr drill"), console.status("restore drill..."):
        result = recovery.drill(
            settings,
            folder,
            log=lambda line: console.print(line, soft_wrap=True),
            max_unknown_share=max_unknown_share,
            freshness_sla_days=freshness_sla_days,
        )
    console.print(result.sentence(), soft_wrap=True)
    if not result.passed:
        message = result.reconciliation.message()
        raise UserError(f"The restored lake does not reconcile for {result.run_date}: {message}.")
    console.print(Text.assemble(("every check passed", "green"), f" for {result.run_date} ({folder / 'reconcile'})"))


# --- entry point -------------------------------------------------------------------------------------------------


def _error(message: str) -> None:
    console.print(Text.assemble(("Error:", "bold red"), " ", message), soft_wrap=True)


def _settings() -> Settings | None:
    try:
        return get_settings()
    except ValueError:  # a bad ECOMDWH_* setting, reported on its own
        return None


def main() -> None:
    """Run the CLI; a failure prints one actionable sentence and exits non-zero, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        _error(str(exc))
        sys.exit(1)
    # typer 0.29 raises its own vendored click's exceptions; plain click's can still come from click code.
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        _error("Aborted.")
        sys.exit(130)
    except (click.ClickException, typer_click.ClickException) as exc:
        exc.show()  # usage errors: "Usage: ...", then "Error: ...", exit 2
        sys.exit(exc.exit_code)
    except ValueError as exc:  # e.g. a bad ECOMDWH_* setting
        _error(f"{exc}.")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a bare traceback
        settings = _settings()
        if settings is not None and settings.debug:
            raise
        explained = explain(exc, settings) if settings is not None else None
        if explained is not None:
            _error(str(explained))
            sys.exit(1)
        _error(
            f"unexpected {type(exc).__name__}: {exc}. "
            "This is a bug or an outage; rerun with ECOMDWH_DEBUG=1 to see the traceback."
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
