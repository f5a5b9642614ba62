"""Run Glue job scripts locally the way Glue runs them: a script, an argv, a GlueContext.

Where the awsglue JVM library is present (the Glue 5 image) the real
`awsglue.context` and `awsglue.job` are used; elsewhere the stand-in of
glue_local.runtime.standin takes their place for the duration of the run.
"""

from __future__ import annotations

import builtins
import secrets
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError, explain
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs
from glue_local.runtime import session, standin

JOBS_DIR = Path(__file__).resolve().parents[1] / "jobs"


def job_scripts() -> dict[str, Path]:
    return {p.stem: p for p in sorted(JOBS_DIR.glob("*.py")) if not p.name.startswith("_")}


def job_name(settings: Settings, script: str, entity: str) -> str:
    """The Glue job's name, as terraform names it: one deployed job per script and entity."""
    return f"{settings.project}-{settings.env}-{script.replace('_', '-')}-{entity.replace('_', '-')}"


def new_job_run_id() -> str:
    return f"jr_{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}_{secrets.token_hex(4)}"


def glue_jvm_available(spark: SparkSession) -> bool:
    """True inside the Glue image, where com.amazonaws.services.glue.GlueContext is a real JVM class."""
    candidate = spark.sparkContext._jvm.com.amazonaws.services.glue.GlueContext
    return type(candidate).__name__ == "JavaClass"


_modules_lock = threading.Lock()
_modules_users = 0
_modules_saved: dict[str, types.ModuleType | None] = {}
_STANDIN_MODULES = ("awsglue.context", "awsglue.job", "awsglue.dynamicframe")


def _install_standin() -> None:
    context = types.ModuleType("awsglue.context")
    context.GlueContext = standin.GlueContext
    job = types.ModuleType("awsglue.job")
    job.Job = standin.Job
    dynamicframe = types.ModuleType("awsglue.dynamicframe")
    dynamicframe.DynamicFrame = standin.DynamicFrame
    _modules_saved.update({name: sys.modules.get(name) for name in _STANDIN_MODULES})
    sys.modules.update({"awsglue.context": context, "awsglue.job": job, "awsglue.dynamicframe": dynamicframe})


def _remove_standin() -> None:
    for name, module in _modules_saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    _modules_saved.clear()


@contextmanager
def awsglue_modules(spark: SparkSession) -> Iterator[bool]:
    """Make `awsglue.context` / `awsglue.job` importable for a script; yields True if the stand-in is used.

    Jobs in several threads share one installation, removed when the last one leaves.
    """
    global _modules_users
    if glue_jvm_available(spark):
        yield False
        return
    with _modules_lock:
        if _modules_users == 0:
            _install_standin()
        _modules_users += 1
    try:
        yield True
    finally:
        with _modules_lock:
            _modules_users -= 1
            if _modules_users == 0:
                _remove_standin()


def bookmark_root(settings: Settings) -> str:
    return f"s3://{settings.logs_bucket}/glue-bookmarks"


class _JobSys(types.ModuleType):
    """The `sys` a job script sees: the process's own, with the job's argv.

    On Glue each job run is a process of its own; here several run side by side in threads of one
    Spark application, so each script gets its argv this way rather than through the shared sys.argv.
    """

    def __init__(self, argv: list[str]) -> None:
        super().__init__("sys")
        self.argv = argv

    def __getattr__(self, name: str) -> object:
        return getattr(sys, name)


def _script_builtins(argv: list[str]) -> dict:
    job_sys = _JobSys(argv)
    real_import = builtins.__import__

    def job_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - __import__'s names
        return job_sys if name == "sys" and level == 0 else real_import(name, globals, locals, fromlist, level)

    return {**vars(builtins), "__import__": job_import}


def run_script(spark: SparkSession, settings: Settings, script: Path, argv: list[str]) -> dict:
    """Run one job script as `__main__` with Glue's argv; returns its globals. Safe to call from threads.

    Not runpy: it swaps the process's sys.argv and sys.modules["__main__"], which threads would race on.
    """
    standin.config.bookmark_root = bookmark_root(settings)
    code = compile(script.read_text(), str(script), "exec")
    script_globals = {
        "__name__": "__main__",
        "__file__": str(script),
        "__builtins__": _script_builtins([str(script), *argv]),
    }
    with awsglue_modules(spark):
        exec(code, script_globals)  # noqa: S102 - the project's own job script, as Glue runs it
    return script_globals


def bronze_to_silver_argv(
    settings: Settings, entity: str, ingest_date: str | None, bookmark_option: str, job_run_id: str
) -> list[str]:
    argv = [
        "--JOB_NAME", job_name(settings, "bronze_to_silver", entity),
        "--JOB_RUN_ID", job_run_id,
        "--entity", entity,
        "--raw_bucket", settings.raw_bucket,
        "--staging_bucket", settings.staging_bucket,
        "--job-bookmark-option", bookmark_option,
    ]  # fmt: skip
    return [*argv, "--ingest_date", ingest_date] if ingest_date else argv


class EntityJobsFailed(UserError):
    """Some entities' jobs failed; the others committed. Carries the committed manifests."""

    def __init__(self, manifests: list[dict], failures: dict[str, str]) -> None:
        self.manifests = manifests
        self.failures = failures
        what = "; ".join(f"{name}: {why}" for name, why in failures.items())
        rerun = " ".join(f"--entity {name}" for name in failures)
        others = f"; the other {len(manifests)} committed" if manifests else ""
        super().__init__(
            f"The Glue job failed for {len(failures)} of {len(failures) + len(manifests)} entities ({what}){others}. "
            f"Fix the cause and rerun `ecomdwh glue run bronze_to_silver {rerun}`."
        )


def _failure_sentence(exc: Exception) -> str:
    if isinstance(exc, UserError):
        return str(exc).rstrip(".")
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")


def entity_names(entities: list[str] | None = None) -> list[str]:
    """The entities a run covers (every contract entity by default); an unknown name is refused."""
    names = entities or list(ENTITIES)
    unknown = [n for n in names if n not in ENTITIES]
    if unknown:
        raise UserError(f"Unknown entity {', '.join(unknown)}; the contract has {', '.join(ENTITIES)}.")
    return names


def run_bronze_to_silver(
    spark: SparkSession,
    settings: Settings,
    entities: list[str] | None = None,
    ingest_date: str | None = None,
    bookmark_option: str = "job-bookmark-enable",
    on_done: Callable[[dict, float], None] | None = None,
) -> list[dict]:
    """Run the bronze_to_silver job for each entity (all by default); returns their manifests.

    The entities' jobs run side by side in the one Spark application (`settings.glue_parallelism`
    at a time); `on_done` hears each manifest and its job's seconds as the job ends. One entity's failure does not stop
    the others (on AWS they are separate jobs in a Parallel state): every entity runs, then
    EntityJobsFailed names each one that failed.
    """
    names = entity_names(entities)
    script = job_scripts()["bronze_to_silver"]

    def one(name: str) -> dict:
        started = time.monotonic()
        argv = bronze_to_silver_argv(settings, name, ingest_date, bookmark_option, new_job_run_id())
        manifest = run_script(spark, settings, script, argv)["manifest"]
        if on_done is not None:
            on_done(manifest, time.monotonic() - started)
        return manifest

    manifests: dict[str, dict] = {}
    errors: dict[str, Exception] = {}
    # Side by side, as the Parallel state runs them on AWS: one job's S3 waits and driver-side
    # planning overlap another's tasks (how much depends on the cores: docs/performance.md).
    with ThreadPoolExecutor(max_workers=max(1, settings.glue_parallelism), thread_name_prefix="glue-job") as pool:
        futures = {pool.submit(one, name): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            try:
                manifests[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - reported per entity below, after the others ran
                errors[name] = exc
    for name in names:
        if name not in errors:
            continue
        exc = errors[name]
        if settings.debug:
            raise exc
        # A fault of the machine (the driver gone, S3 gone, disk full) fails every entity alike: say it once.
        explained = lost_driver(spark, settings) or explain(exc, settings)
        if explained is not None:
            raise explained from exc
    ordered = [manifests[n] for n in names if n in manifests]
    if errors:
        raise EntityJobsFailed(ordered, {n: _failure_sentence(errors[n]) for n in names if n in errors})
    return ordered


def lost_driver(spark: SparkSession, settings: Settings) -> UserError | None:
    """A UserError when the Spark driver the jobs ran on is gone: the Glue session's, or this command's own JVM.

    What the jobs had committed stays committed and the rest is not visible (a run commits only with its
    manifest), so a rerun reads just what is left.
    """
    state = session.attached()
    if state is not None and not session.is_running(state):
        return UserError(
            f"The Glue session (pid {state.pid}) stopped while this command's jobs ran, so the jobs it did not "
            "finish commit nothing; rerun `ecomdwh glue run bronze_to_silver` (or `ecomdwh run`), which reads what "
            "is left, with a Spark of its own or attached to a session started again."
        )
    try:
        spark.sparkContext._jsc.sc().isStopped()  # a call into the JVM: it fails when the JVM is gone
    except Exception:  # noqa: BLE001 - py4j's network and protocol errors alike mean the driver is gone
        return UserError(
            "Spark's driver (its JVM) stopped while the jobs ran, so the jobs it did not finish commit nothing; "
            f"see {settings.spark_log_path} and rerun `ecomdwh glue run bronze_to_silver` (or `ecomdwh run`), "
            "which reads what is left."
        )
    return None


def manifest_line(manifest: dict, seconds: float | None = None) -> str:
    """One line on what an entity's job did, for progress output."""
    m = manifest
    line = (
        f"{m['entity']}: {len(m['files_read'])} file(s), read {m['rows_read']}, written {m['rows_written']}, "
        f"quarantined {m['rows_quarantined_total']}, deduplicated {m['rows_deduplicated']}"
    )
    return line if seconds is None else f"{line} ({seconds:.1f} s)"


def reset_bookmark(spark: SparkSession, settings: Settings, job: str) -> bool:
    """Forget what a job has processed (like `aws glue reset-job-bookmark`)."""
    return hadoopfs.delete(spark, f"{bookmark_root(settings)}/{job}")
