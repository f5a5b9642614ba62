"""The local Spark runtime's JVM: started from the class archive `ecomdwh setup` records, and never
stopped by an archive that does not fit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecomdwh.settings import Settings
from glue_local.runtime import spark as runtime
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def java(settings: Settings) -> str:
    return str(Path(settings.java_home, "bin", "java")) if settings.java_home else "java"


def test_the_session_jvm_starts_from_the_class_archive_setup_recorded(spark, session_settings: Settings):
    archive = runtime.class_archive(session_settings)
    assert archive.exists(), "`ecomdwh setup` (run by `make test`) records the archive"
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments


def test_the_classes_pyspark_calls_by_simple_name_are_imported_by_name(spark):
    """py4j finds `functions` among the view's single imports instead of trying each package PySpark imports."""
    from py4j.java_gateway import JavaClass

    jvm = spark.sparkContext._jvm
    imported = set(dir(jvm))  # the view's single imports, by simple name (package imports are not listed)
    for name in runtime.SIMPLE_NAMES:
        simple = name.rsplit(".", 1)[1]
        assert simple in imported, name
        assert isinstance(getattr(jvm, simple), JavaClass), name  # a class, so the name is spelled right
    assert "org.apache.spark.sql.functions" in runtime.SIMPLE_NAMES


def test_an_archive_that_does_not_fit_is_skipped_quietly(session_settings: Settings, tmp_path: Path):
    stale = tmp_path / "stale.jsa"
    stale.write_bytes(b"not a class archive")
    result = subprocess.run(
        [java(session_settings), f"-XX:SharedArchiveFile={stale}", *runtime.QUIET_ARCHIVE, "-version"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert "warning" not in result.stderr.lower() and "archive" not in result.stderr.lower()


@pytest.mark.slow
def test_the_recording_run_returns_only_when_the_archive_is_whole(tmp_path: Path):
    """The JVM writes the archive as it exits, after the Python side is done: the recording must wait for it
    (setup once failed, looking for the archive while the JVM, its output in a log file, was still writing)."""
    archive = tmp_path / "classes.jsa"
    result = subprocess.run(
        [sys.executable, "-m", "glue_local.runtime.warm_up", str(archive)],
        cwd=ROOT,
        env={**os.environ, "ECOMDWH_STATE_DIR": str(tmp_path / "state")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    assert result.returncode == 0
    size = archive.stat().st_size  # there at once, not later
    assert size > 10_000_000
    assert archive.stat().st_size == size  # and no longer growing
