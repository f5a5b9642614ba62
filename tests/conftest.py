"""Session-wide fixtures: one real S3 emulator per test session, on a free loopback port.

LocalStack (host mode, its own venv) is the default; ECOMDWH_TEST_EMULATOR=moto
switches the whole session to moto's server. Each test isolates itself with
its own environment name, which gives it its own buckets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecomdwh import emulator
from ecomdwh.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def emulator_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment variables that point the workbench at the session's emulator."""
    backend = os.environ.get("ECOMDWH_TEST_EMULATOR", "localstack")
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "ECOMDWH_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "ECOMDWH_EMULATOR": backend,
        "ECOMDWH_ENV": "test",
    }
    settings = load_settings({**os.environ, **env})
    emulator.start(settings, timeout=120)
    yield env
    emulator.stop(settings)


@pytest.fixture(scope="session")
def session_settings(emulator_env: dict[str, str]) -> Settings:
    return load_settings({**os.environ, **emulator_env})


@pytest.fixture
def s3_settings(session_settings: Settings) -> Settings:
    """Settings with buckets of the test's own (a fresh env name) on the session emulator."""
    settings = session_settings.with_overrides(env=f"t{uuid.uuid4().hex[:10]}")
    emulator.create_buckets(settings)
    return settings


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 600):
    """Run `ecomdwh` as a user would, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "ecomdwh.cli", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def spark(session_settings: Settings):
    """The one SparkSession of the test session (s3a pointed at the session's emulator)."""
    from glue_local.runtime.spark import get_spark

    session = get_spark(session_settings, app_name="ecomdwh-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_gold(spark, session_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    """Three generated landing days through land, Glue, load and dbt into a DuckDB warehouse, and their ground
    truth: built once for the report tests, which read it or corrupt copies of it."""
    from ecomdwh import dbt_runner, landing
    from ecomdwh.generator import generate
    from ecomdwh.warehouse.load import load
    from glue_local.runtime import runner

    folder = tmp_path_factory.mktemp("small-gold")
    truth = generate(folder / "bronze", days=3, orders_per_day=120, seed=11, bad_rate=0.03)
    settings = session_settings.with_overrides(env="smallgold", duckdb_path=folder / "ecomdwh.duckdb")
    emulator.create_buckets(settings)
    landing.land(settings, landing.plan(folder / "bronze"))
    runner.run_bronze_to_silver(spark, settings)
    load(settings, "local")
    dbt_runner.build(settings, "local")
    return settings, truth


@pytest.fixture(scope="session")
def pg_params() -> Iterator[dict[str, str]]:
    """A PostgreSQL 15 server for the test session, on 127.0.0.1 only, stopped after."""
    from ecomdwh import pgserver

    with pgserver.server(free_port()) as params:
        yield params


@pytest.fixture
def pg_db(pg_params: dict[str, str]) -> dict[str, str]:
    """A fresh database of its own on the session's PostgreSQL server, so tests never see each other's schemas."""
    import psycopg2

    name = f"t{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(**pg_params)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"create database {name}")
    con.close()
    return {**pg_params, "dbname": name}
