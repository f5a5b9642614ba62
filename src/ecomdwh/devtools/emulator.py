"""Start, stop and inspect the local S3 emulator.

LocalStack 4.13.1 runs on the host (no Docker) from its own venv; moto's
server is the zero-setup fallback. Either one binds 127.0.0.1 only, is
recorded in a pid file, and is stopped by that pid and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ecomdwh import aws
from ecomdwh.devtools import toolchain
from ecomdwh.devtools.processes import stop_pid
from ecomdwh.errors import UserError
from ecomdwh.settings import EMULATOR_BACKENDS, Settings

# Markers that tell our own emulator process apart from a recycled pid.
_CMDLINE_MARKERS = {"localstack": "localstack.runtime.main", "moto": "moto.server"}


@dataclass(frozen=True)
class EmulatorState:
    pid: int
    backend: str
    endpoint: str
    log: str


def _state_dir(settings: Settings) -> Path:
    return settings.state_dir / "emulator"


def _pid_file(settings: Settings) -> Path:
    return _state_dir(settings) / "emulator.json"


def _read_state(settings: Settings) -> EmulatorState | None:
    try:
        return EmulatorState(**json.loads(_pid_file(settings).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def s3_requests(settings: Settings) -> Counter[str] | None:
    """The S3 requests the emulator started for these settings has answered so far, by operation (LocalStack logs
    each one it serves); None where no such log is kept (moto, or an emulator started elsewhere)."""
    state = _read_state(settings)
    if state is None or state.backend != "localstack":
        return None
    try:
        text = Path(state.log).read_bytes()
    except OSError:
        return None
    return Counter(op.decode() for op in re.findall(rb"AWS s3\.(\w+)", text))


def _is_ours(state: EmulatorState) -> bool:
    """True if the recorded pid is alive and still runs our emulator."""
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return _CMDLINE_MARKERS.get(state.backend, "\0") in cmdline


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def answers_as_s3(settings: Settings, timeout: float = 5.0) -> bool:
    """True if the endpoint answers as S3 within `timeout` (any listener may hold the port)."""
    key, secret = settings.emulator_credentials
    client = boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}),
    )
    try:
        client.list_buckets()
        return True
    except ClientError as exc:
        # Any web server answers 4xx; only S3 names its request.
        return "x-amz-request-id" in exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    except BotoCoreError:
        return False


def _check_loopback(settings: Settings) -> None:
    if settings.emulator_host not in ("127.0.0.1", "localhost"):
        raise UserError(
            f"The emulator only binds loopback, but AWS_ENDPOINT_URL points at {settings.emulator_host}; "
            "use http://127.0.0.1:<port>."
        )


def _command(settings: Settings, backend: str) -> tuple[list[str], dict[str, str]]:
    host, port = "127.0.0.1", settings.emulator_port
    env = dict(os.environ)
    if backend == "moto":
        return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)], env
    toolchain.ensure_localstack(settings)
    data_dir = _state_dir(settings) / "localstack"
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        GATEWAY_LISTEN=f"{host}:{port}",
        GATEWAY_SERVER="hypercorn",  # the default server ignores the host and binds every interface
        SERVICES="s3",
        EAGER_SERVICE_LOADING="1",
        DISABLE_EVENTS="1",  # no analytics traffic
        SKIP_SSL_CERT_DOWNLOAD="1",
        DNS_ADDRESS="0",
        PERSISTENCE="0",
        FILESYSTEM_ROOT=str(data_dir),
    )
    return [str(settings.localstack_python), "-m", "localstack.runtime.main"], env


def _wait_healthy(settings: Settings, process: subprocess.Popen, log: Path, timeout: float) -> None:
    s3 = aws.s3(settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise UserError(f"The emulator exited during start-up (code {process.returncode}): {tail}; see {log}.")
        try:
            s3.list_buckets()
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.3)
    process.terminate()
    raise UserError(f"The emulator did not answer within {timeout:.0f} s; see {log} for why.")


def create_buckets(settings: Settings) -> None:
    s3 = aws.s3(settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in settings.buckets:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)


def delete_buckets(settings: Settings) -> None:
    """Empty and remove the settings' buckets (scratch environments such as the benchmark's)."""
    s3 = aws.s3(settings)
    for bucket in settings.buckets:
        try:
            for page in aws.list_pages(settings, bucket):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            s3.delete_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                raise


def status(settings: Settings) -> EmulatorState | None:
    """The running emulator started by this workbench, or None."""
    state = _read_state(settings)
    return state if state is not None and _is_ours(state) else None


def start(settings: Settings, backend: str | None = None, timeout: float = 60) -> tuple[EmulatorState, bool]:
    """Start the emulator unless ours is already up. Returns (state, started_now)."""
    backend = backend or settings.emulator_backend
    if backend not in EMULATOR_BACKENDS:
        raise UserError(f"Unknown emulator backend {backend!r}; choose one of {', '.join(EMULATOR_BACKENDS)}.")
    _check_loopback(settings)
    running = status(settings)
    if running is not None:
        create_buckets(settings)
        return running, False
    _pid_file(settings).unlink(missing_ok=True)  # stale: its process is gone
    if _port_in_use("127.0.0.1", settings.emulator_port):
        if answers_as_s3(settings):
            raise UserError(
                f"An S3 endpoint that this workbench did not start already answers at {settings.endpoint_url} "
                "(e.g. LocalStack from docker-compose); the commands use it as it is, or stop it and retry."
            )
        raise UserError(
            f"Port {settings.emulator_port} on 127.0.0.1 is held by another process, which does not answer as S3; "
            "stop it, or point AWS_ENDPOINT_URL at a free port (e.g. http://127.0.0.1:4567)."
        )
    command, env = _command(settings, backend)
    state_dir = _state_dir(settings)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / f"{backend}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    state = EmulatorState(process.pid, backend, settings.endpoint_url or "", str(log))
    _pid_file(settings).write_text(json.dumps(asdict(state)))
    try:
        _wait_healthy(settings, process, log, timeout)
        create_buckets(settings)
    except BaseException:
        stop_pid(process.pid)
        _pid_file(settings).unlink(missing_ok=True)
        raise
    return state, True


def stop(settings: Settings) -> EmulatorState | None:
    """Stop our emulator by its recorded pid. Returns what was stopped, or None."""
    state = status(settings)
    if state is not None:
        stop_pid(state.pid)
    _pid_file(settings).unlink(missing_ok=True)
    return state


def ensure(settings: Settings) -> str:
    """Use the emulator that answers at the endpoint, or start ours. Returns a sentence for the log."""
    if not settings.uses_emulator:
        return "using AWS (no emulator)"
    if status(settings) is None and answers_as_s3(settings):
        # Someone else's S3 at our endpoint, e.g. LocalStack from docker-compose.
        create_buckets(settings)
        return f"using the S3 endpoint already answering at {settings.endpoint_url}"
    state, started = start(settings)
    verb = "started" if started else "already running"
    return f"{state.backend} {verb} at {state.endpoint} (pid {state.pid})"
