"""Run Glue job scripts locally the way Glue runs them: a script, an argv, a GlueContext.

Where the awsglue JVM library is present (the Glue 5 image) the real
`awsglue.context` and `awsglue.job` are used; elsewhere the stand-in of
glue_local.runtime.standin takes their place for the duration of the run.
"""

from __future__ import annotations

import runpy
import secrets
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError, explain
from ecomdwh.settings import Settings
from glue_local.etl import hadoopfs
from glue_local.runtime import standin

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


@contextmanager
def awsglue_modules(spark: SparkSession) -> Iterator[bool]:
    """Make `awsglue.context` / `awsglue.job` importable for a script; yields True if the stand-in is used."""
    if glue_jvm_available(spark):
        yield False
        return
    names = ("awsglue.context", "awsglue.job", "awsglue.dynamicframe")
    saved = {name: sys.modules.get(name) for name in names}
    context = types.ModuleType("awsglue.context")
    context.GlueContext = standin.GlueContext
    job = types.ModuleType("awsglue.job")
    job.Job = standin.Job
    dynamicframe = types.ModuleType("awsglue.dynamicframe")
    dynamicframe.DynamicFrame = standin.DynamicFrame
    sys.modules.update({"awsglue.context": context, "awsglue.job": job, "awsglue.dynamicframe": dynamicframe})
    try:
        yield True
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def bookmark_root(settings: Settings) -> str:
    return f"s3://{settings.logs_bucket}/glue-bookmarks"


def run_script(spark: SparkSession, settings: Settings, script: Path, argv: list[str]) -> dict:
    """Run one job script with Glue's argv; returns the script's globals."""
    saved_argv = sys.argv
    standin.config.bookmark_root = bookmark_root(settings)
    sys.argv = [str(script), *argv]
    try:
        with awsglue_modules(spark):
            return runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved_argv


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


def run_bronze_to_silver(
    spark: SparkSession,
    settings: Settings,
    entities: list[str] | None = None,
    ingest_date: str | None = None,
    bookmark_option: str = "job-bookmark-enable",
) -> list[dict]:
    """Run the bronze_to_silver job for each entity (all by default); returns their manifests.

    One entity's failure does not stop the others (on AWS they are separate jobs in a Parallel
    state): every entity runs, then EntityJobsFailed names each one that failed.
    """
    names = entities or list(ENTITIES)
    unknown = [n for n in names if n not in ENTITIES]
    if unknown:
        raise UserError(f"Unknown entity {', '.join(unknown)}; the contract has {', '.join(ENTITIES)}.")
    script = job_scripts()["bronze_to_silver"]
    manifests: list[dict] = []
    failures: dict[str, str] = {}
    for name in names:
        argv = bronze_to_silver_argv(settings, name, ingest_date, bookmark_option, new_job_run_id())
        try:
            manifests.append(run_script(spark, settings, script, argv)["manifest"])
        except Exception as exc:  # noqa: BLE001 - reported per entity below, after the others ran
            if settings.debug:
                raise
            # A fault of the machine (S3 gone, disk full) fails every entity alike: say it once, now.
            explained = explain(exc, settings)
            if explained is not None:
                raise explained from exc
            failures[name] = _failure_sentence(exc)
    if failures:
        raise EntityJobsFailed(manifests, failures)
    return manifests


def reset_bookmark(spark: SparkSession, settings: Settings, job: str) -> bool:
    """Forget what a job has processed (like `aws glue reset-job-bookmark`)."""
    return hadoopfs.delete(spark, f"{bookmark_root(settings)}/{job}")
