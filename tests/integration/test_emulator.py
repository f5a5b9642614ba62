"""Emulator lifecycle against real servers on loopback: LocalStack (the session's) and moto."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecomdwh import aws, errors
from ecomdwh.devtools import emulator
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.integration


def _listeners(port: int) -> list[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return [line.split()[3] for line in out.splitlines() if line.strip()]


def test_session_emulator_runs_on_loopback_only_with_buckets(session_settings: Settings):
    state = emulator.status(session_settings)
    assert state is not None and state.backend in ("localstack", "moto")
    assert _listeners(session_settings.emulator_port) == [f"127.0.0.1:{session_settings.emulator_port}"]
    names = {b["Name"] for b in aws.s3(session_settings).list_buckets()["Buckets"]}
    assert set(session_settings.buckets) <= names


def test_start_is_idempotent(session_settings: Settings):
    before = emulator.status(session_settings)
    state, started = emulator.start(session_settings)
    assert not started and before is not None and state.pid == before.pid


def test_port_held_by_something_else_is_a_clear_error(tmp_path: Path, session_settings: Settings):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = session_settings.with_overrides(endpoint_url=f"http://127.0.0.1:{port}", state_root=tmp_path)
        with pytest.raises(UserError, match=f"Port {port} on 127.0.0.1 is held by another process"):
            emulator.start(settings, backend="moto")
    assert not (tmp_path / "emulator" / "emulator.json").exists()


def test_non_loopback_endpoint_is_refused(tmp_path: Path, session_settings: Settings):
    settings = session_settings.with_overrides(endpoint_url="http://0.0.0.0:4566", state_root=tmp_path)
    with pytest.raises(UserError, match="only binds loopback"):
        emulator.start(settings, backend="moto")


def test_moto_fallback_lifecycle_through_the_cli(tmp_path: Path):
    port = free_port()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "ECOMDWH_STATE_DIR": str(tmp_path), "ECOMDWH_ENV": "m"}
    started = run_cli("emulator", "start", "--backend", "moto", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    pid = json.loads((tmp_path / "emulator" / "emulator.json").read_text())["pid"]
    assert _listeners(port) == [f"127.0.0.1:{port}"]
    status = run_cli("emulator", "status", env=env)
    assert status.returncode == 0 and f"pid {pid}" in status.stdout
    stopped = run_cli("emulator", "stop", env=env)
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert not Path(f"/proc/{pid}").exists() or b"moto" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert _listeners(port) == []
    assert run_cli("emulator", "status", env=env).returncode == 1


def test_stop_never_kills_a_process_that_is_not_ours(tmp_path: Path, session_settings: Settings):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = {"pid": bystander.pid, "backend": "localstack", "endpoint": "x", "log": "x"}
        (tmp_path / "emulator").mkdir()
        (tmp_path / "emulator" / "emulator.json").write_text(json.dumps(record))
        settings = session_settings.with_overrides(state_root=tmp_path)
        assert emulator.status(settings) is None
        assert emulator.stop(settings) is None
        assert bystander.poll() is None, "a process that is not our emulator was killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_kept_client_says_a_stopped_emulator_does_not_answer_and_serves_the_restarted_one(tmp_path: Path):
    """A long-lived process (a notebook's kernel, `ecomdwh run`) keeps its S3 client across an emulator restart."""
    port = free_port()
    settings = Settings(endpoint_url=f"http://127.0.0.1:{port}", state_root=tmp_path, env="kept")
    emulator.start(settings, backend="moto")
    try:
        client = aws.s3(settings)
        client.create_bucket(Bucket="before-restart")
        assert aws.s3(settings) is client and aws.s3(settings.with_overrides(env="other")) is client
        assert aws.s3(settings.with_overrides(endpoint_url=f"http://127.0.0.1:{free_port()}")) is not client
        emulator.stop(settings)
        with pytest.raises(Exception) as down:
            client.list_buckets()
        said = errors.s3_unreachable(down.value, settings)
        assert said is not None and f"The S3 emulator at {settings.endpoint_url} does not answer" in str(said)
        emulator.start(settings, backend="moto")
        assert aws.s3(settings) is client
        names = {b["Name"] for b in client.list_buckets()["Buckets"]}
        assert names == set(settings.buckets)  # the new emulator's, made by its start: none of the old one's
    finally:
        emulator.stop(settings)
