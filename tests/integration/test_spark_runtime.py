"""The local Spark runtime's JVM: started from the class archive `ecomdwh setup` records, and never
stopped by an archive that does not fit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ecomdwh.settings import Settings
from glue_local.runtime import spark as runtime

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def java(settings: Settings) -> str:
    return str(Path(settings.java_home, "bin", "java")) if settings.java_home else "java"


def test_the_session_jvm_starts_from_the_class_archive_setup_recorded(spark, session_settings: Settings):
    archive = runtime.class_archive(session_settings)
    assert archive.exists(), "`ecomdwh setup` (run by `make test`) records the archive"
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments


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
