"""Which commands may attach to a Glue session (those whose own Spark would run with the same settings), and what
a command does when the session refuses it or cannot be reached."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from pyspark import SparkContext

from ecomdwh.errors import UserError
from ecomdwh.settings import load_settings
from glue_local.runtime import session

BASE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "ECOMDWH_ENV": "dev", "ECOMDWH_STATE_DIR": "/tmp/s"}


def test_the_env_and_warehouse_do_not_matter_but_what_spark_runs_with_does():
    base = session.spark_settings_hash(load_settings(BASE))
    assert base == session.spark_settings_hash(load_settings({**BASE, "ECOMDWH_ENV": "other"}))
    assert base == session.spark_settings_hash(load_settings({**BASE, "ECOMDWH_DUCKDB_PATH": "/tmp/w.duckdb"}))
    for change in (
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:4567"},
        {"ECOMDWH_SPARK_JAVA_OPTIONS": "-Xss4m"},
        {"ECOMDWH_SPARK_MASTER": "spark://127.0.0.1:7077"},
    ):
        assert session.spark_settings_hash(load_settings({**BASE, **change})) != base, change


def test_the_code_stamp_moves_when_a_file_of_the_job_library_changes(tmp_path: Path):
    library = tmp_path / "etl"
    library.mkdir()
    (library / "parsing.py").write_text("X = 1\n")
    before = session.code_version([tmp_path])
    assert session.code_version([tmp_path]) == before
    os.utime(library / "parsing.py", ns=(1, 1))
    assert session.code_version([tmp_path]) != before
    assert session.code_version() != before  # by default it stamps the job library and the contract


def fake_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: bytes):
    """A recorded session whose port answers `reply` to whoever asks; this process looks as if it had no Spark."""
    settings = load_settings({**BASE, "ECOMDWH_STATE_DIR": str(tmp_path)})
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(1024)
        conn.sendall(reply)
        conn.recv(1024)  # held until the command lets go
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    state = session.SessionState(
        os.getpid(), server.getsockname()[1], "t", session.spark_settings_hash(settings), "now", 1.0, "log"
    )
    session._write_state(settings, state)
    monkeypatch.setattr(session, "is_running", lambda state: True)
    monkeypatch.setattr(SparkContext, "_active_spark_context", None)
    return settings


def test_a_busy_session_leaves_the_command_to_start_its_own_spark(tmp_path: Path, monkeypatch):
    settings = fake_session(tmp_path, monkeypatch, b"busy\n")
    assert session.attach(settings) is None and session.attached() is None


def test_a_driver_that_cannot_be_reached_is_one_sentence_naming_the_way_out(tmp_path: Path, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    settings = fake_session(tmp_path, monkeypatch, f'{{"port": {dead_port}, "secret": "s"}}\n'.encode())
    with pytest.raises(UserError, match=r"could not be attached .*`ecomdwh glue session stop`"):
        session.attach(settings)
    assert session.attached() is None
