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


JIT, GC = runtime.CLIENT_JIT, runtime.SERIAL_GC


@pytest.mark.parametrize(
    ("options", "batch_bytes", "ours"),
    [
        ("", 8 << 20, [JIT, GC]),
        ("-Xss4m", 8 << 20, [JIT, GC]),
        ("", runtime.SMALL_BATCH_BELOW_BYTES, []),  # a large batch: the tiered JIT and G1, which pay there
        ("", None, []),  # the size unknown: as before
        ("-XX:TieredStopAtLevel=4", 8 << 20, [GC]),  # the user's JIT stands
        ("-XX:-TieredCompilation", 8 << 20, [GC]),
        ("-XX:+UseParallelGC", 8 << 20, [JIT]),  # the user's collector stands (two would stop the JVM)
    ],
)
def test_a_small_batch_gets_the_small_data_jvm_and_spark_unless_the_user_chose(options: str, batch_bytes, ours):
    conf = runtime.spark_conf(runtime.for_batch(Settings(root=ROOT, spark_java_options=options), batch_bytes))
    java = conf["spark.driver.extraJavaOptions"].split()
    assert [o for o in java if o in (JIT, GC)] == ours
    if options:
        assert java[-len(options.split()) :] == options.split()  # the user's options come last
    small = {k: conf.get(k) for k in runtime.SMALL_BATCH_CONF}
    assert small == (runtime.SMALL_BATCH_CONF if ours else dict.fromkeys(runtime.SMALL_BATCH_CONF))


def test_a_command_on_a_small_batch_starts_its_jvm_and_spark_for_small_data(session_settings: Settings, tmp_path: Path):
    """A command's own Spark (no Glue session to attach to) reading a small batch: its JVM runs the client JIT and the
    serial collector beside the user's options, and its Spark neither re-plans stages nor takes large pages."""
    code = (
        "from ecomdwh.settings import load_settings\n"
        "from glue_local.runtime import session\n"
        "spark = session.spark_for_command(load_settings(), batch_bytes=lambda: 8 << 20)\n"
        "bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()\n"
        "print('\\n'.join(bean.getInputArguments()))\n"
        "page = spark.sparkContext.getConf().get('spark.buffer.pageSize')\n"
        "print(spark.conf.get('spark.sql.adaptive.enabled'), page)\n"
        "spark.stop()\n"
    )
    env = {**os.environ, **session_settings.child_env(), "ECOMDWH_STATE_DIR": str(tmp_path / "state")}
    env["ECOMDWH_SPARK_JAVA_OPTIONS"] = "-Xss4m"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    arguments = result.stdout.splitlines()
    assert {JIT, GC, "-Xss4m"} <= set(arguments)
    assert arguments[-1] == "false 2m"


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
