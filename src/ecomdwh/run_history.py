"""Run history: every `ecomdwh run` and every `ecomdwh report reconcile` leaves a record in the warehouse's
`ops` schema: what ran, how long each step took, what it counted and what it checked.

    ops.runs         one row per run or report: id, kind, run date, target, env, times, status, verdict, message
    ops.run_steps    one row per step: order, name, status, seconds, detail
    ops.run_metrics  long format: metric, entity, detail, value (rows per layer, quarantine by reason,
                     unknown-member shares, freshness lag, revenue per day, check and dbt test results)

The SQL is plain and portable (DuckDB, PostgreSQL, Redshift) and runs through the DB-API connection of
`ecomdwh.warehouse.connection.connect`. A record is first kept as a JSON file in
`<state_dir>/ops/pending/`, then appended under the writer lock, each record in one transaction that
replaces any earlier copy of the same run id (so appending twice leaves one record). When the lock is
held by another writer or the warehouse cannot be reached, the file stays, and the next run or report
on the same warehouse appends it.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from ecomdwh import run_steps
from ecomdwh.errors import UserError
from ecomdwh.run_ids import utcnow
from ecomdwh.settings import Settings

SCHEMA = "ops"
RUNS = "runs"
STEPS = "run_steps"
METRICS = "run_metrics"
TEXT_CHARS = 4000  # messages and details are cut to this: a Java stack in a step's detail is not the record
KINDS = ("run", "reconcile")

# Counted per entity in the layer_counts frame of a reconciliation (the lake and the warehouse as they stand).
LAYER_COLUMNS = (
    "bronze_rows",
    "rows_read",
    "rows_written",
    "rows_quarantined",
    "rows_deduplicated",
    "silver_rows",
    "quarantine_rows",
    "warehouse_rows",
    "gold_rows",
)


@dataclass
class Record:
    run_id: str
    kind: str  # run | reconcile
    run_date: str
    target: str
    env: str
    warehouse: str  # which warehouse the record belongs to (see warehouse_id)
    started_at: str  # ISO, UTC
    finished_at: str
    status: str  # ok | failed | running (a run under way, see run_record)
    verdict: str | None  # the reconciliation's: passed | failed; None when it did not run
    message: str | None  # the failure, as the command said it
    steps: list[dict] = field(default_factory=list)  # step, status, seconds, detail
    metrics: list[dict] = field(default_factory=list)  # metric, entity, detail, value


def warehouse_id(settings: Settings, target: str) -> str:
    """The warehouse a target's connection reaches, so a kept record is appended to the right one."""
    if target == "local":
        return str(settings.warehouse_path.resolve())
    if target == "pg":
        p = settings.pg
        return f"pg://{p.get('host')}:{p.get('port')}/{p.get('dbname')}"
    r = settings.redshift
    return f"redshift://{r.get('host')}:{r.get('port', 5439)}/{r.get('dbname', 'dev')}"


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:TEXT_CHARS]


def _metric(metric: str, value: float | int | None, entity: str = "", detail: str = "") -> dict | None:
    if value is None:
        return None
    return {"metric": metric, "entity": entity, "detail": detail[:256], "value": float(value)}


# --- what a record counts ----------------------------------------------------------------------------------------


def glue_metrics(manifests: Iterable[dict]) -> list[dict]:
    """This run's Glue jobs: rows read, written, quarantined (per reason) and deduplicated, per entity."""
    metrics = []
    for m in manifests:
        entity = m["entity"]
        metrics += [
            _metric("glue.rows_read", m["rows_read"], entity),
            _metric("glue.rows_written", m["rows_written"], entity),
            _metric("glue.rows_deduplicated", m["rows_deduplicated"], entity),
            _metric("glue.rows_quarantined", m["rows_quarantined_total"], entity, "total"),
        ]
        metrics += [_metric("glue.rows_quarantined", n, entity, reason) for reason, n in m["rows_quarantined"].items()]
    return [m for m in metrics if m]


def reconcile_metrics(summary: dict) -> list[dict]:
    """A reconciliation's measurements (summary.json): rows per layer, unknown-member shares, freshness lag,
    revenue per landing day, and its checks."""
    frames = summary.get("frames", {})
    metrics = []
    for row in frames.get("layer_counts", []):
        metrics += [_metric(f"layer.{c}", row.get(c), row["entity"]) for c in LAYER_COLUMNS]
    for row in frames.get("referential", []):
        metrics.append(_metric("unknown_member_share", row.get("unknown_share"), row["dimension"]))
    for row in frames.get("freshness", []):
        metrics.append(_metric("freshness_lag_days", row.get("lag_days"), row["entity"]))
    for row in frames.get("money", []):
        metrics.append(_metric("revenue", row.get("gold_amount"), "order_items", str(row["ingest_date"])[:10]))
    checks = summary.get("checks", [])
    metrics.append(_metric("checks", sum(1 for c in checks if c.get("success")), "reconcile", "passed"))
    metrics.append(_metric("checks", sum(1 for c in checks if not c.get("success")), "reconcile", "failed"))
    for f in summary.get("failures", []):
        metrics.append(_metric("check_failed", 1, f["layer"], f"{f['check']}: {f['row']}"))
    return [m for m in metrics if m]


def dbt_metrics(results: list[dict]) -> list[dict]:
    """dbt's data tests in a build: how many passed, failed, warned or errored, and which did not pass."""
    tests = [r for r in results if r.get("unique_id", "").startswith("test.")]
    metrics = [
        _metric("dbt_tests", n, "dbt", status) for status, n in sorted(Counter(r["status"] for r in tests).items())
    ]
    for r in tests:
        if r["status"] in ("fail", "error"):
            metrics.append(_metric("check_failed", 1, "dbt", r["unique_id"].split(".")[2]))
    return [m for m in metrics if m]


@dataclass
class BuildTests:
    """dbt's data tests in the newest recorded build: the run that built, its counts by status (pass, fail,
    warn, error, skipped) and the tests that failed or errored."""

    run_id: str
    run_date: str
    counts: dict[str, int]
    failed: list[str]

    @property
    def passed(self) -> bool:
        return not self.failed and not self.counts.get("fail") and not self.counts.get("error")

    def sentence(self) -> str:
        tests = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items())) or "no data tests"
        if self.passed:
            return f"dbt tests of the last build (run {self.run_id}): {tests}"
        return f"dbt tests failed in the last build (run {self.run_id}): {', '.join(self.failed) or tests}"


def last_build_tests(con) -> BuildTests | None:
    """The dbt data tests of the newest `ecomdwh run` that recorded any (None when no build is recorded)."""
    from ecomdwh.warehouse import read_sql

    found = read_sql(
        con,
        "select count(*) as n from information_schema.tables "
        f"where table_schema = '{SCHEMA}' and table_name in ('{RUNS}', '{METRICS}')",
    )
    if int(found.iloc[0, 0]) < 2:
        return None
    runs = read_sql(
        con,
        f"select r.run_id, r.run_date from {SCHEMA}.{RUNS} as r where r.kind = 'run' and exists "
        f"(select 1 from {SCHEMA}.{METRICS} as m where m.run_id = r.run_id and m.metric = 'dbt_tests') "
        "order by r.run_id desc limit 1",
    )
    if runs.empty:
        return None
    run_id = str(runs["run_id"].iloc[0])
    quoted = run_id.replace("'", "''")
    metrics = read_sql(
        con,
        f"select metric, detail, value from {SCHEMA}.{METRICS} where run_id = '{quoted}' and "
        "(metric = 'dbt_tests' or (metric = 'check_failed' and entity = 'dbt')) order by metric, detail",
    )
    counts = {d: int(v) for m, d, v in metrics.itertuples(index=False) if m == "dbt_tests"}
    failed = [d for m, d, _ in metrics.itertuples(index=False) if m == "check_failed"]
    return BuildTests(run_id, str(runs["run_date"].iloc[0])[:10], counts, failed)


def read_summary(folder: Path | None) -> dict | None:
    from ecomdwh.reports import SUMMARY

    path = folder / SUMMARY if folder else None
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _verdict(summary: dict | None) -> str | None:
    if summary is None:
        return None
    return "passed" if summary.get("passed") else "failed"


def run_record(
    ctx, outcomes: list, started_at: datetime, finished_at: datetime | None = None, running: bool = False
) -> Record:
    """The record of an `ecomdwh run` (a pipeline.RunContext and its step outcomes, as far as it got).

    `running`: the record of a run still under way (status running, the steps to come pending), written after
    its dbt build so the reconciliation report reads this build's tests; the final record replaces it."""
    done = dict(outcomes)
    steps = []
    for name in run_steps.STEP_NAMES:
        outcome = done.get(name)
        if outcome is None and running:
            steps.append({"step": name, "status": "pending", "seconds": 0.0, "detail": "not reached yet"})
        elif outcome is None:  # interrupted before this step
            steps.append({"step": name, "status": "skipped", "seconds": 0.0, "detail": "the run stopped before it"})
        else:
            steps.append({"step": name, "status": outcome.status, "seconds": outcome.seconds, "detail": outcome.detail})
    failed = [s for s in steps if s["status"] == "failed"]
    interrupted = len(done) < len(run_steps.STEP_NAMES) and not failed and not running
    reconciled = ctx.reports.get("reconcile")
    summary = read_summary(reconciled.folder if reconciled else None)
    metrics = glue_metrics(ctx.manifests) + dbt_metrics(ctx.dbt_results)
    metrics += reconcile_metrics(summary) if summary else []
    message = f"Step {failed[0]['step']} failed: {failed[0]['detail']}" if failed else None
    if interrupted:
        message = "The run was interrupted."
    return Record(
        run_id=ctx.run_id,
        kind="run",
        run_date=run_steps.run_date(ctx),
        target=ctx.settings.target,
        env=ctx.settings.env,
        warehouse=warehouse_id(ctx.settings, ctx.settings.target),
        started_at=started_at.isoformat(),
        finished_at=(finished_at or utcnow()).isoformat(),
        status="failed" if failed or interrupted else "running" if running else "ok",
        verdict=_verdict(summary),
        message=_cut(message),
        steps=steps,
        metrics=metrics,
    )


def report_record(
    settings: Settings,
    run_id: str,
    run_date: str,
    target: str,
    started_at: datetime,
    folder: Path | None,
    error: str | None,
) -> Record:
    """The record of a scheduled reconciliation (`ecomdwh report reconcile`): one step, its checks and counts."""
    summary = read_summary(folder)
    finished = utcnow()
    seconds = (finished - started_at).total_seconds()
    status = "failed" if error else "ok"
    return Record(
        run_id=run_id,
        kind="reconcile",
        run_date=run_date,
        target=target,
        env=settings.env,
        warehouse=warehouse_id(settings, target),
        started_at=started_at.isoformat(),
        finished_at=finished.isoformat(),
        status=status,
        verdict=_verdict(summary),
        message=_cut(error),
        steps=[
            {"step": "reconcile", "status": status, "seconds": seconds, "detail": _cut(error or "every check passed")}
        ],
        metrics=reconcile_metrics(summary) if summary else [],
    )


# --- the tables --------------------------------------------------------------------------------------------------


def ddl() -> list[str]:
    """The ops tables; the same spelling works on DuckDB, PostgreSQL and Redshift."""
    return [
        f"create schema if not exists {SCHEMA}",
        f"create table if not exists {SCHEMA}.{RUNS} (\n"
        "    run_id varchar(64) not null,\n"
        "    kind varchar(16) not null,\n"
        "    run_date date not null,\n"
        "    target varchar(16) not null,\n"
        "    env varchar(64) not null,\n"
        "    started_at timestamp not null,\n"
        "    finished_at timestamp not null,\n"
        "    seconds double precision not null,\n"
        "    status varchar(16) not null,\n"
        "    verdict varchar(16),\n"
        f"    message varchar({TEXT_CHARS})\n"
        ")",
        f"create table if not exists {SCHEMA}.{STEPS} (\n"
        "    run_id varchar(64) not null,\n"
        "    step_order integer not null,\n"
        "    step varchar(32) not null,\n"
        "    status varchar(16) not null,\n"
        "    seconds double precision not null,\n"
        f"    detail varchar({TEXT_CHARS})\n"
        ")",
        f"create table if not exists {SCHEMA}.{METRICS} (\n"
        "    run_id varchar(64) not null,\n"
        "    metric varchar(64) not null,\n"
        "    entity varchar(64) not null,\n"
        "    detail varchar(256) not null,\n"
        "    value double precision not null\n"
        ")",
    ]


def _is_duckdb(con) -> bool:
    return type(con).__module__.lstrip("_").split(".")[0] == "duckdb"


STOPPED_UNRECORDED = "The run stopped after its dbt step without recording how it ended (killed or lost)."


def write(con, record: Record) -> None:
    """Append one record in one transaction, replacing an earlier copy of the same run id."""
    duck = _is_duckdb(con)
    mark = "?" if duck else "%s"  # DuckDB's placeholder; psycopg2's and redshift_connector's
    cur = con if duck else con.cursor()
    if duck:
        con.begin()
    try:
        for statement in ddl():
            cur.execute(statement)
        for table in (METRICS, STEPS, RUNS):
            cur.execute(f"delete from {SCHEMA}.{table} where run_id = {mark}", [record.run_id])
        started = datetime.fromisoformat(record.started_at)
        finished = datetime.fromisoformat(record.finished_at)
        marks = ", ".join([mark] * 11)
        cur.execute(
            f"insert into {SCHEMA}.{RUNS} (run_id, kind, run_date, target, env, started_at, finished_at, seconds, "
            f"status, verdict, message) values ({marks})",
            [
                record.run_id,
                record.kind,
                date.fromisoformat(record.run_date),
                record.target,
                record.env,
                started,
                finished,
                (finished - started).total_seconds(),
                record.status,
                record.verdict,
                record.message,
            ],
        )
        steps = [
            [record.run_id, i, s["step"], s["status"], float(s["seconds"]), _cut(s["detail"])]
            for i, s in enumerate(record.steps, start=1)
        ]
        if steps:
            cur.executemany(f"insert into {SCHEMA}.{STEPS} values ({', '.join([mark] * 6)})", steps)
        metrics = [[record.run_id, m["metric"], m["entity"], m["detail"], m["value"]] for m in record.metrics]
        if metrics:
            cur.executemany(f"insert into {SCHEMA}.{METRICS} values ({', '.join([mark] * 5)})", metrics)
        # Writers take the project's lock one at a time, so another run still `running` here was killed after
        # its dbt step and never wrote its final record: say so rather than show it running for ever.
        cur.execute(
            f"update {SCHEMA}.{RUNS} set status = 'failed', message = {mark} "
            f"where status = 'running' and run_id <> {mark}",
            [STOPPED_UNRECORDED, record.run_id],
        )
        con.commit()
    except BaseException:
        with contextlib.suppress(Exception):  # the write's own error is the one to report
            con.rollback()
        raise
    finally:
        if not duck:
            cur.close()


# --- keeping and appending ---------------------------------------------------------------------------------------


def pending_dir(settings: Settings) -> Path:
    return settings.state_dir / "ops" / "pending"


def keep(settings: Settings, record: Record) -> Path:
    """Write the record where the next writer finds it (atomically: a reader never sees half a file)."""
    folder = pending_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record.run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def pending(settings: Settings, target: str) -> list[tuple[Path, Record]]:
    """The kept records that belong to this target's warehouse, oldest first."""
    here = warehouse_id(settings, target)
    found = []
    for path in sorted(pending_dir(settings).glob("*.json")):
        try:
            record = Record(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue  # another process is writing it, or it is not ours
        if record.warehouse == here:
            found.append((path, record))
    return found


def save(settings: Settings, record: Record, create_warehouse: bool = False) -> str | None:
    """Keep the record and append it (with any kept before) to ops; None when appended, else a sentence saying
    where it waits. `create_warehouse`: a run may create the local warehouse file; a report never does."""
    from ecomdwh import writer_lock
    from ecomdwh.warehouse.connection import connect

    path = keep(settings, record)
    if record.target == "local" and not create_warehouse and not settings.warehouse_path.exists():
        return f"The record of {record.run_id} is kept in {path} until the warehouse exists (`ecomdwh run`)."
    try:
        with writer_lock.hold(settings, "ecomdwh run history"):
            todo = pending(settings, record.target)
            con = connect(settings, record.target)
            try:
                for kept, kept_record in todo:
                    write(con, kept_record)
                    kept.unlink(missing_ok=True)
            finally:
                con.close()
    except UserError as exc:
        reason = str(exc).rstrip(".")
    except Exception as exc:  # noqa: BLE001 - the record waits; the command's own outcome stands
        reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    else:
        return None
    return (
        f"The record of {record.run_id} is kept in {path} and the next run or report on this warehouse "
        f"appends it to {SCHEMA} ({reason})."
    )
