"""The CLI's failures: usage errors exit 2 with click's text; ordinary faults exit 1 with one true sentence."""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from ecomdwh import pipeline
from ecomdwh.devtools import emulator
from ecomdwh.errors import UserError, explain
from ecomdwh.settings import get_settings, load_settings
from ecomdwh.warehouse.connection import connect
from tests.conftest import ROOT, free_port, run_cli, scratch_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return scratch_env(tmp_path, "errors")


@pytest.fixture
def in_process(env: dict[str, str], cli_in_process):
    """Run cli.main() in this process with `env`; returns (exit code, stdout + stderr)."""
    main = cli_in_process(env)
    return lambda capsys, *args: main(*args)


def assert_clean(output: str) -> None:
    assert "Traceback" not in output
    assert "unexpected" not in output
    assert "MarkupError" not in output


# --- usage errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["glue", "run", "x", "--bogus"], "No such option: --bogus"),
        (["run", "--date", "2026-02-30"], "'2026-02-30' is not a date"),
        (["bogus"], "No such command 'bogus'"),
    ],
)
def test_usage_errors_exit_2_with_clicks_text(env: dict[str, str], args: list[str], says: str):
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Usage: " in result.stderr and "Error: " in result.stderr and says in result.stderr
    assert_clean(result.stdout + result.stderr)


# --- markup --------------------------------------------------------------------------------------------------------


def test_a_message_with_brackets_prints_verbatim(env: dict[str, str], tmp_path: Path):
    folder = tmp_path / "x[/foo][bold"
    result = run_cli("land", str(folder), env=env)
    assert result.returncode == 1
    assert str(folder) in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_run_prints_step_details_verbatim_and_explains_faults(in_process, capsys, monkeypatch: pytest.MonkeyPatch):
    def land(ctx):
        return pipeline.StepOutcome("ok", "landed in s3://raw/[/foo] [bold x")

    def glue(ctx):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1/[/bar]")

    monkeypatch.setattr(emulator, "ensure", lambda settings: "emulator [/ready]")
    monkeypatch.setattr(pipeline, "STEPS", [("land", land), ("glue", glue), ("load", land)])
    code, output = in_process(capsys, "run")
    assert code == 1
    assert "emulator [/ready]" in output and "s3://raw/[/foo] [bold x" in output
    endpoint = get_settings().endpoint_url
    assert f"Error: Step glue failed: The S3 emulator at {endpoint} does not answer" in output
    assert "`ecomdwh emulator start`" in output
    assert_clean(output)


# --- faults --------------------------------------------------------------------------------------------------------


def test_s3_unreachable_mid_command(env: dict[str, str]):
    result = run_cli("load", env=env)
    assert result.returncode == 1
    assert f"The S3 emulator at {env['AWS_ENDPOINT_URL']} does not answer" in result.stdout
    assert "`ecomdwh emulator start`" in result.stdout and "`ecomdwh run` lands the data again" in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_debug_keeps_the_traceback(env: dict[str, str]):
    result = run_cli("load", env={**env, "ECOMDWH_DEBUG": "1"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "EndpointConnectionError" in result.stderr


def test_random_bytes_are_not_a_warehouse(env: dict[str, str]):
    Path(env["ECOMDWH_DUCKDB_PATH"]).write_bytes(os.urandom(8192))
    result = run_cli("load", env=env)
    assert result.returncode == 1
    assert "is not a valid DuckDB database" in result.stdout
    assert "move it away" in result.stdout and "`ecomdwh run`" in result.stdout
    assert "in use" not in result.stdout and "locked" not in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_a_truncated_warehouse_is_damaged_not_locked(tmp_path: Path):
    import duckdb

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t as select range as i from range(200000)")
    con.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    settings = load_settings({"ECOMDWH_DUCKDB_PATH": str(path)})
    with pytest.raises(UserError, match="is not a valid DuckDB database .*move it away"):
        connect(settings, "local").execute("select sum(i) from t").fetchall()


def test_a_locked_warehouse_names_the_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ecomdwh.warehouse import reader

    monkeypatch.setattr(reader, "WRITER_WAIT_SECONDS", 0.5)  # a writer waits for readers, not for this
    path = tmp_path / "w.duckdb"
    code = f"import duckdb, time; con = duckdb.connect({str(path)!r}); print('open', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        settings = load_settings({"ECOMDWH_DUCKDB_PATH": str(path)})
        with pytest.raises(UserError, match=f"is locked by another process \\(pid {holder.pid}, "):
            connect(settings, "local")
    finally:
        holder.kill()
        holder.wait()


def test_emulator_port_held_by_something_else(env: dict[str, str]):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_cli(
            "emulator", "start", "--backend", "moto", env={**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is held by another process, which does not answer as S3" in result.stdout
    assert "AWS_ENDPOINT_URL" in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_emulator_port_held_by_an_s3_of_someone_else(tmp_path: Path):
    from moto.server import ThreadedMotoServer

    from ecomdwh.devtools import emulator

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        settings = load_settings({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "ECOMDWH_STATE_DIR": str(tmp_path)})
        with pytest.raises(UserError, match=f"did not start already answers at http://127.0.0.1:{port}"):
            emulator.start(settings, backend="moto")
    finally:
        server.stop()


def test_no_java_for_spark(env: dict[str, str], tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_cli("glue", "run", "bronze_to_silver", env={**env, "PATH": str(empty), "JAVA_HOME": ""})
    assert result.returncode == 1
    assert "Spark needs a Java 17 JDK" in result.stdout and "no java on the PATH" in result.stdout
    assert "JAVA_HOME" in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_a_jvm_that_cannot_start_is_quoted_and_one_killed_at_start_is_said_to_be(env: dict[str, str], tmp_path: Path):
    # A real JVM refusing a value: its own words, not the JVM's boilerplate around them.
    refused = run_cli("glue", "reset-bookmark", "bronze_to_silver", env={**env, "ECOMDWH_SPARK_JAVA_OPTIONS": "-Xss1k"})
    assert refused.returncode == 1
    [sentence] = [line for line in refused.stdout.splitlines() if line.startswith("Error: ")]
    assert sentence.startswith("Error: Spark's Java process exited before it started, saying: The Java thread stack")
    assert "Could not create the Java Virtual Machine" not in sentence and "ECOMDWH_SPARK_JAVA_OPTIONS" in sentence
    assert_clean(refused.stdout + refused.stderr)
    # The driver's JVM killed before it says anything (as the OOM killer or a user's kill -9 leaves it); the
    # launcher that builds its command line is Spark's, and runs.
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    killed_home = tmp_path / "jdk"
    (killed_home / "bin").mkdir(parents=True)
    (killed_home / "bin" / "java").write_text(
        f'#!/bin/sh\ncase "$*" in *org.apache.spark.launcher.Main*) exec {java} "$@";; esac\nkill -9 $$\n'
    )
    (killed_home / "bin" / "java").chmod(0o755)
    killed = run_cli("glue", "reset-bookmark", "bronze_to_silver", env={**env, "JAVA_HOME": str(killed_home)})
    assert killed.returncode == 1
    assert "exited before it started and wrote nothing, so it was stopped from outside" in killed.stdout
    assert "JDK" not in killed.stdout  # the JDK is not to blame
    assert_clean(killed.stdout + killed.stderr)
    # A JVM that crashes while it starts (here: out of class space, told to crash on it; without the class
    # archive, whose classes would not count) is said to have crashed, with why, and its crash report is
    # beside Spark's log, not in the folder the command ran from.
    crash = "-Xshare:off -XX:MaxMetaspaceSize=12m -XX:+CrashOnOutOfMemoryError"
    crashed = run_cli("glue", "reset-bookmark", "bronze_to_silver", env={**env, "ECOMDWH_SPARK_JAVA_OPTIONS": crash})
    assert crashed.returncode == 1
    [sentence] = [line for line in crashed.stdout.splitlines() if line.startswith("Error: ")]
    assert sentence.startswith("Error: Spark's Java process crashed before it started (Aborting due to ")
    assert "OutOfMemoryError: Metaspace" in sentence and "ECOMDWH_SPARK_JAVA_OPTIONS" in sentence
    [report] = re.findall(r"its crash report is (\S+) and", sentence)
    logs = Path(env["ECOMDWH_STATE_DIR"]) / "logs"
    assert Path(report).parent == logs and Path(report).name.startswith("hs_err_pid") and Path(report).is_file()
    assert not list(ROOT.glob("hs_err_pid*"))
    assert_clean(crashed.stdout + crashed.stderr)


def test_a_jvm_gone_under_py4j_is_said_to_have_stopped_and_a_java_error_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    settings = load_settings({"ECOMDWH_STATE_DIR": str(tmp_path / "state")})
    gateway = launch_gateway()  # a JVM of its own, as a command's driver is
    assert gateway.proc is not None
    in_flight: list[BaseException] = []
    try:
        monkeypatch.setattr(SparkContext, "_gateway", gateway)  # this process's driver, as in a command
        lang = gateway.jvm.java.lang
        assert lang.System.currentTimeMillis() > 0
        with pytest.raises(Exception) as bug:  # a Java-side error is the JVM's answer: not a lost driver
            lang.System.noSuchMethod()
        assert explain(bug.value, settings) is None

        def wait_in_java() -> None:
            try:
                lang.Thread.sleep(60_000)
            except Exception as exc:  # noqa: BLE001 - what the caller in flight meets, kept for the assertions
                in_flight.append(exc)

        waiting = threading.Thread(target=wait_in_java)
        waiting.start()
        time.sleep(1)
        gateway.proc.kill()  # as the OOM killer or a kill -9 does
        gateway.proc.wait()
        waiting.join(30)
        with pytest.raises(Exception) as after:
            lang.System.currentTimeMillis()
    finally:
        if gateway.proc.poll() is None:  # an assertion failed before the kill: the JVM goes all the same
            gateway.proc.kill()
            gateway.proc.wait()
        gateway.close()
    assert len(in_flight) == 1
    for exc in (in_flight[0], after.value):
        explained = explain(exc, settings)
        assert explained is not None, repr(exc)
        assert str(explained).startswith("Spark's driver (its JVM) stopped during the command (killed, out of memory")
        assert f"see {settings.spark_log_path} and rerun the command" in str(explained)


def test_a_misspelled_jvm_option_is_refused_not_dropped(env: dict[str, str]):
    # Spark's launcher tells the JVM to ignore options it does not know: the command checks the user's itself.
    typo = {**env, "ECOMDWH_SPARK_JAVA_OPTIONS": "-Xmx2g -XX:TieredStopAtLevl=1"}
    refused = run_cli("glue", "reset-bookmark", "bronze_to_silver", env=typo)
    assert refused.returncode == 1
    [sentence] = [line for line in refused.stdout.splitlines() if line.startswith("Error: ")]
    assert sentence.startswith("Error: ECOMDWH_SPARK_JAVA_OPTIONS holds an option this Java does not know")
    assert "Unrecognized VM option 'TieredStopAtLevl=1'" in sentence and "Did you mean" in sentence
    assert_clean(refused.stdout + refused.stderr)


def test_java_home_without_java(env: dict[str, str], tmp_path: Path):
    result = run_cli("glue", "reset-bookmark", "bronze_to_silver", env={**env, "JAVA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert f"JAVA_HOME is {tmp_path}, which holds no bin/java" in result.stdout
    assert_clean(result.stdout + result.stderr)


def test_a_full_disk_names_the_file(in_process, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from ecomdwh import generator

    target = tmp_path / "bronze" / "orders.csv"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(generator, "generate", full)
    code, output = in_process(capsys, "generate", "--out", str(tmp_path / "bronze"))
    assert code == 1
    assert f"The disk is full (no space left on device) writing {target}" in output
    assert_clean(output)


def test_a_full_disk_without_a_file_names_the_fullest_folder(in_process, capsys, monkeypatch: pytest.MonkeyPatch):
    from ecomdwh import generator

    def full(*args, **kwargs):
        raise RuntimeError("IO Error: could not write block: No space left on device")

    monkeypatch.setattr(generator, "generate", full)
    code, output = in_process(capsys, "generate", "--out", "/tmp/unused")
    assert code == 1
    assert "The disk is full (no space left on device);" in output and "has the least free space" in output
    assert_clean(output)


def test_a_crash_without_words_of_its_own_is_said_from_its_crash_block(tmp_path: Path):
    # What a JVM wrote when it crashed at start with only an -Xlog info line before its crash block.
    from glue_local.runtime.spark import _start_failure

    written = (
        "[0.651s][info][jfr,startup] Started recording 1.\n#\n"
        "# A fatal error has been detected by the Java Runtime Environment:\n#\n"
        "#  SIGSEGV (0xb) at pc=0x00007f9dbaa6001e, pid=28143, tid=28172\n#\n"
        "# An error report file with more information is saved as:\n"
        f"# {tmp_path}/hs_err_pid28143.log\n"
    )
    sentence = _start_failure(written, tmp_path / "spark.log")
    assert sentence.startswith("Spark's Java process crashed before it started (SIGSEGV (0xb) at pc=")
    assert f"its crash report is {tmp_path}/hs_err_pid28143.log" in sentence
    assert "Started recording" not in sentence
