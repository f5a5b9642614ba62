"""A Glue session: one long-lived Spark driver that commands attach to, one at a time.

A command's Spark jobs in a new JVM pay for its start, class loading and JIT compilation before they
do any work; a session keeps one JVM warm between commands, as a Glue interactive session does. Only
the JVM and its Python workers are shared: the job's Python runs in the command's own process, so an
edited job takes effect at once. A command attaches when the session runs with the Spark settings the
command would start its own Spark with and no other command holds it; otherwise it starts its own, as
without a session. However a command ends (done, failed, killed), its connection closes and the
session cancels the Spark jobs it left running and drops what it cached.

`python -m glue_local.runtime.session --idle-minutes N` serves; `ecomdwh glue session` starts and stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyspark import SparkContext
from pyspark.sql import SparkSession

from ecomdwh import settings as settings_module
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings, load_settings
from glue_local.runtime.spark import for_batch, get_spark, import_simple_names, python_logs_to_spark_log, spark_conf

MODULE = "glue_local.runtime.session"
_BUSY = b"busy\n"


@dataclass(frozen=True)
class SessionState:
    pid: int
    port: int  # where the session grants its driver, on 127.0.0.1
    token: str  # what a command shows to be granted it
    spark_settings: str  # the hash of the Spark settings it runs with
    started_at: str
    idle_minutes: float
    log: str


def state_file(settings: Settings) -> Path:
    return settings.state_dir / "glue-session" / "session.json"


def log_file(settings: Settings) -> Path:
    return settings.state_dir / "logs" / "glue-session.log"


def spark_settings_hash(settings: Settings) -> str:
    """What a command's own Spark would be: attaching to a session started otherwise would change its run."""
    key = {"master": settings.spark_master, "python": sys.executable, "conf": spark_conf(settings)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def code_version(roots: list[Path] | None = None) -> str:
    """A stamp of the Python the session's workers run (the job library and the contract): a command whose
    code differs gets workers of its own, never ones that imported an older copy."""
    roots = roots or [Path(__file__).resolve().parents[1], Path(settings_module.__file__).resolve().parent]
    stamp = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            info = path.stat()
            stamp.update(f"{path}|{info.st_mtime_ns}|{info.st_size}\n".encode())
    return stamp.hexdigest()[:16]


def read_state(settings: Settings) -> SessionState | None:
    try:
        return SessionState(**json.loads(state_file(settings).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def is_running(state: SessionState) -> bool:
    """True if the recorded pid is alive and still serves a session (not a recycled pid)."""
    try:
        return MODULE in Path(f"/proc/{state.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False


# --- a command's side ------------------------------------------------------------------------------------------

_held: dict[str, object] = {}  # the lease socket and the session's state, for the life of this process


def attached() -> SessionState | None:
    """The session this process runs its Spark jobs in, if it attached to one."""
    return _held.get("state")  # type: ignore[return-value]


def spark_for_command(settings: Settings, batch_bytes: Callable[[], int | None] | None = None) -> SparkSession:
    """The session's driver when one runs with these settings and is free, else this process's own Spark, with
    the settings for the size of what it will read (`batch_bytes`, asked only then)."""
    if (held := attach(settings)) is not None:
        return held
    if batch_bytes is not None and SparkContext._active_spark_context is None:
        settings = for_batch(settings, batch_bytes())
    return get_spark(settings)


def attach(settings: Settings) -> SparkSession | None:
    """The session's SparkSession, held by this process until it exits; None when no session runs with these
    Spark settings, another command holds it, or this process already has a Spark of its own."""
    if attached() is not None:
        return SparkSession.getActiveSession()
    state = read_state(settings)
    if (
        SparkContext._active_spark_context is not None
        or state is None
        or state.spark_settings != spark_settings_hash(settings)
        or not is_running(state)
    ):
        return None
    try:
        lease = socket.create_connection(("127.0.0.1", state.port), timeout=10)
    except OSError:
        return None
    try:
        lease.sendall(state.token.encode() + b"\n")
        reply = _read_line(lease)
    except OSError:
        reply = b""
    if not reply.startswith(b"{"):  # busy, or gone while asked
        lease.close()
        return None
    driver = json.loads(reply)
    lease.settimeout(None)
    _held.update(lease=lease, state=state)
    try:
        spark = _session_on(driver["port"], driver["secret"])
    except Exception as exc:
        lease.close()
        _held.clear()
        raise UserError(
            f"The Glue session (pid {state.pid}) could not be attached ({type(exc).__name__}: {exc}); "
            "stop it with `ecomdwh glue session stop` and rerun."
        ) from exc
    python_logs_to_spark_log(settings)
    return spark


def _read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _session_on(port: int, secret: str) -> SparkSession:
    """A SparkSession of this process on the session's JVM, its SparkContext and default session reused."""
    from pyspark.java_gateway import launch_gateway

    # PySpark connects to a JVM it is handed through these two variables; they stay out of child processes.
    os.environ.update(PYSPARK_GATEWAY_PORT=str(port), PYSPARK_GATEWAY_SECRET=secret)
    try:
        gateway = launch_gateway()
    finally:
        os.environ.pop("PYSPARK_GATEWAY_PORT")
        os.environ.pop("PYSPARK_GATEWAY_SECRET")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jvm = gateway.jvm
    running = jvm.org.apache.spark.SparkContext.getOrCreate()
    jsc = jvm.org.apache.spark.api.java.JavaSparkContext.fromSparkContext(running)
    sc = SparkContext(gateway=gateway, jsc=jsc, environment={"ECOMDWH_CODE_VERSION": code_version()})
    spark = SparkSession(sc)
    import_simple_names(spark)
    return spark


# --- the session's side ----------------------------------------------------------------------------------------


def serve(settings: Settings, idle_minutes: float) -> None:
    """Start Spark, record the session, grant its driver to one command at a time; stop after `idle_minutes`
    with no command, or on SIGTERM."""
    spark = get_spark(settings, app_name="ecomdwh-glue-session")
    gateway = spark.sparkContext._gateway.gateway_parameters
    grant = json.dumps({"port": gateway.port, "secret": gateway.auth_token}).encode() + b"\n"
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(1.0)
    state = SessionState(
        pid=os.getpid(),
        port=server.getsockname()[1],
        token=secrets.token_hex(16),
        spark_settings=spark_settings_hash(settings),
        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        idle_minutes=idle_minutes,
        log=str(log_file(settings)),
    )
    _write_state(settings, state)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    holder = threading.Lock()
    last_release = [time.monotonic()]
    try:
        while holder.locked() or time.monotonic() - last_release[0] < idle_minutes * 60:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                if spark.sparkContext._jsc.sc().isStopped():
                    return  # a command stopped the shared context: nothing left to serve
                continue
            conn.settimeout(10)
            try:
                token = _read_line(conn).strip().decode(errors="replace")
            except OSError:
                conn.close()
                continue
            if not secrets.compare_digest(token, state.token) or not holder.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    conn.sendall(_BUSY)
                conn.close()
                continue
            try:
                conn.sendall(grant)
            except OSError:  # the command is gone already
                conn.close()
                holder.release()
                continue
            threading.Thread(target=_hold, args=(spark, conn, holder, last_release), daemon=True).start()
    finally:
        server.close()
        if read_state(settings) == state:
            state_file(settings).unlink(missing_ok=True)
        spark.stop()


def _hold(spark: SparkSession, conn: socket.socket, holder: threading.Lock, last_release: list[float]) -> None:
    """Wait until the command's connection closes, then clean up after it and free the session."""
    conn.settimeout(None)
    try:
        while conn.recv(1024):
            pass
    except OSError:
        pass
    finally:
        conn.close()
        try:
            spark.sparkContext.cancelAllJobs()
            spark.catalog.clearCache()
        finally:
            last_release[0] = time.monotonic()
            holder.release()


def _write_state(settings: Settings, state: SessionState) -> None:
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    # Readable by its owner alone from the start: the token grants the driver.
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(json.dumps(asdict(state)))
    partial.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--idle-minutes", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        serve(load_settings(), args.idle_minutes)
    except UserError as exc:  # its last line is what `ecomdwh glue session start` reports
        print(exc, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
