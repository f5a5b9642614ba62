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
    return str(runtime.java_binary(settings))


def test_the_session_jvm_starts_from_the_class_archive_setup_recorded(spark, session_settings: Settings):
    archive = runtime.class_archive(session_settings)
    assert archive.exists(), "`ecomdwh setup` (run by `make test`) records the archive"
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments


def test_the_jit_keeps_its_code_cache_when_told_to_stop_at_c1(spark):
    """The suite's JVM runs C1 only (ECOMDWH_SPARK_JAVA_OPTIONS), which alone reserves 48 MB for compiled code:
    a long session filled it and the JVM stopped compiling. It reserves the tiered JIT's 240 MB."""
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert "-XX:TieredStopAtLevel=1" in arguments
    pools = [p for p in jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans() if "Code" in p.getName()]
    assert sum(p.getUsage().getMax() for p in pools) >= 240 * 2**20, [p.getName() for p in pools]


def test_a_column_function_sends_py4j_its_call_alone_once_its_method_is_known(spark):
    """PySpark looks `functions` and then the method up on every column function it builds (two py4j commands
    before the call); the session keeps each method it has seen, so the next column costs the call alone."""
    from pyspark.sql import functions as F

    jvm = spark.sparkContext._jvm
    for name in runtime.SIMPLE_NAMES:
        held = jvm.__dict__[name.rsplit(".", 1)[1]]
        assert isinstance(held, runtime.StaticMembers), name
        assert jvm.java.lang.Class.forName(name).getName() == name  # spelled as the JVM knows it
    F.col("first")
    client = jvm._gateway_client
    sent: list[str] = []
    send = client.send_command
    client.send_command = lambda command, *args, **kwargs: sent.append(command) or send(command, *args, **kwargs)
    try:
        column = F.col("second")
    finally:
        del client.send_command
    # py4j also tells the JVM, at any command, to drop objects that Python's garbage collection freed
    # ("m\nd\n<id>"): other tests' leftovers, not this column's cost.
    calls = [command for command in sent if not command.startswith("m\nd\n")]
    assert len(calls) == 1, sent
    assert str(column) == "Column<'second'>"


@pytest.mark.parametrize(
    ("options", "lake_bytes", "expected"),
    [
        ("", 8 << 20, runtime.CLIENT_JIT),
        ("-Xss4m", 8 << 20, f"-Xss4m {runtime.CLIENT_JIT}"),
        ("", runtime.CLIENT_JIT_BELOW_BYTES, ""),  # a large lake: the tiered JIT, whose optimising compiler pays
        ("", None, ""),  # the size unknown: as before
        ("-XX:TieredStopAtLevel=4", 8 << 20, "-XX:TieredStopAtLevel=4"),  # the user's choice stands
        ("-XX:-TieredCompilation", 8 << 20, "-XX:-TieredCompilation"),
    ],
)
def test_a_small_lake_gets_the_client_jit_unless_the_user_chose_one(options: str, lake_bytes, expected: str):
    settings = Settings(root=ROOT, spark_java_options=options)
    assert runtime.jit_for_lake(settings, lake_bytes).spark_java_options == expected


def test_a_command_on_a_small_lake_starts_its_jvm_with_the_client_jit(session_settings: Settings, tmp_path: Path):
    """A command's own Spark (no Glue session to attach to) on a small lake: its JVM runs the client JIT, beside
    the user's options."""
    code = (
        "from ecomdwh.settings import load_settings\n"
        "from glue_local.runtime import session\n"
        "spark = session.spark_for_command(load_settings(), lake_bytes=lambda: 8 << 20)\n"
        "bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()\n"
        "print('\\n'.join(bean.getInputArguments()))\n"
        "spark.stop()\n"
    )
    env = {**os.environ, **session_settings.child_env(), "ECOMDWH_STATE_DIR": str(tmp_path / "state")}
    env["ECOMDWH_SPARK_JAVA_OPTIONS"] = "-Xss4m"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    arguments = result.stdout.splitlines()
    assert runtime.CLIENT_JIT in arguments and "-Xss4m" in arguments


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
