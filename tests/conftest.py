"""Session-wide fixtures: one real S3 emulator per test session, on a free loopback port.

LocalStack (host mode, its own venv) is the default; ECOMDWH_TEST_EMULATOR=moto
switches the whole session to moto's server. Each test isolates itself with
its own environment name, which gives it its own buckets.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecomdwh.devtools import emulator
from ecomdwh.devtools.bench import machine
from ecomdwh.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# What a test may write to in the working tree: caches that setup made or that tools keep.
_TREE_CACHES = ("__pycache__/", ".pytest_cache/", ".ruff_cache/")
# Tests sharing an expensive fixture run in one worker, so it is made once: the session's pipeline-built
# gold, and the JupyterLab server of test_lab.
_SHARED_FIXTURES = {"daily_gold": "gold", "small_gold": "gold", "lab": "lab"}


_SCRATCH_VARS = "_TESTS_SCRATCH_VARS"


def pytest_configure(config: pytest.Config) -> None:
    """Whatever the workbench writes by default (dbt's target and logs, reports, the warehouse, pid files)
    goes to a temporary folder of this process, so tests leave the working tree as they found it and
    parallel workers never share dbt's run_results.json."""
    scratch = Path(tempfile.mkdtemp(prefix=f"ecomdwh-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"))
    defaults = {
        "DBT_TARGET_PATH": scratch / "dbt-target",
        "DBT_LOG_PATH": scratch / "dbt-logs",
        "ECOMDWH_REPORTS_DIR": scratch / "reports",
        "ECOMDWH_DUCKDB_PATH": scratch / "warehouse" / "ecomdwh.duckdb",
        "ECOMDWH_STATE_DIR": scratch / "state",
    }
    # A worker inherits the controller's environment: what the controller set here, each worker sets anew
    # (what the user set before pytest stays as it is).
    ours = set(filter(None, os.environ.get(_SCRATCH_VARS, "").split(",")))
    for name, path in defaults.items():
        if name in ours or name not in os.environ:
            os.environ[name] = str(path)
            ours.add(name)
    os.environ[_SCRATCH_VARS] = ",".join(sorted(ours))
    config.stash[_SCRATCH_KEY] = scratch
    # The tests' data are small: Spark's JVMs (this one, the CLI's children, a cluster's executors) skip the
    # optimising JIT, whose compilations cost more CPU than they save here (docs/performance.md).
    os.environ.setdefault("ECOMDWH_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
    config.stash[_TREE_KEY] = _tree_state()
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # The suite's time says little without the machine's speed beside it (docs/performance.md).
        config.stash[_MACHINE_KEY] = machine.Watch()
        config.stash[_MACHINE_KEY].start()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    watch = config.stash.get(_MACHINE_KEY, None)
    if watch is not None:
        terminalreporter.write_line(machine.describe(watch.report(), "the tests"))


# Before pytest-xdist's own hook, which reads the group marks into the node ids it schedules by.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        groups = {_SHARED_FIXTURES[name] for name in fixtures & _SHARED_FIXTURES.keys()}
        if groups:
            item.add_marker(pytest.mark.xdist_group(min(groups)))
        if "gold" in groups:
            # It waits for a three-day pipeline build (Glue, dbt on DuckDB and PostgreSQL): slow, whatever its
            # own body costs, so `make test-fast` leaves it to `make test`.
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, fail at once when the groups above did not reach the scheduler (each worker
    would then build the shared fixtures again)."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(
            f"pytest-xdist did not group {len(lost)} test(s) (e.g. {lost[0]}); use the pytest pinned in pyproject.toml."
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove this process's scratch folder after a passing run (a failed one keeps it, dbt's logs and all),
    and fail the run when the tests added or removed anything in the working tree (the controller checks)."""
    scratch = session.config.stash.get(_SCRATCH_KEY, None)
    if scratch is not None and exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(scratch, ignore_errors=True)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    before, after = session.config.stash.get(_TREE_KEY, None), _tree_state()
    if before is None or after is None or before == after:
        return
    changed = sorted(before ^ after)
    session.config.get_terminal_writer().line(
        f"The tests changed the working tree ({', '.join(changed[:10])}); a test writes outside its tmp_path.",
        red=True,
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TREE_KEY = pytest.StashKey[frozenset | None]()
_MACHINE_KEY = pytest.StashKey[machine.Watch]()
_SCRATCH_KEY = pytest.StashKey[Path]()


def _tree_state() -> frozenset | None:
    """Ignored entries of the checkout (what a run writes: dbt/target, reports/, warehouse/), as `git status`
    names them; None outside git. Untracked files are left out: they are someone's new work, not output."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return None
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=matching", "--untracked-files=normal"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return frozenset(line[3:] for line in out.splitlines() if line[:2] == "!!" and not line[3:].endswith(_TREE_CACHES))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def emulator_address(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where the session's emulator listens (once started): Spark can be pointed at it before it runs."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "ECOMDWH_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "ECOMDWH_EMULATOR": os.environ.get("ECOMDWH_TEST_EMULATOR", "localstack"),
        "ECOMDWH_ENV": "test",
    }


@pytest.fixture(scope="session")
def emulator_env(emulator_address: dict[str, str]) -> Iterator[dict[str, str]]:
    """Environment variables that point the workbench at the session's emulator, started."""
    env = dict(emulator_address)
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


def scratch_env(tmp_path: Path, env_name: str) -> dict[str, str]:
    """Settings for a test of the command line alone: a scratch state dir and warehouse, and an S3
    endpoint where nothing listens (a command that reaches S3 fails at once)."""
    return {
        "ECOMDWH_STATE_DIR": str(tmp_path / "state"),
        "ECOMDWH_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "ECOMDWH_PROJECT": "ecomdwh",
        "ECOMDWH_ENV": env_name,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "ECOMDWH_DEBUG": "",
    }


@pytest.fixture
def cli_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`cli_in_process(env)` sets `env` and gives `main(*args) -> (exit code, stdout + stderr)`, which runs
    the CLI's entry point in this process (monkeypatches stay possible)."""
    from ecomdwh import cli
    from ecomdwh.settings import get_settings

    def start(env: dict[str, str]):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

        def main(*args: str) -> tuple[int, str]:
            monkeypatch.setattr(sys, "argv", ["ecomdwh", *args])
            with pytest.raises(SystemExit) as exited:
                cli.main()
            out = capsys.readouterr()
            return exited.value.code, out.out + out.err

        return main

    yield start
    get_settings.cache_clear()


def emulator_requests(settings: Settings) -> Counter[str]:
    """S3 requests the session's LocalStack has answered so far, by operation, from its request log."""
    counted = emulator.s3_requests(settings)
    assert counted is not None, "the tests' emulator is LocalStack, which logs each request"
    return counted


def latest_report(reports_dir: Path, kind: str, day: str) -> Path:
    """The newest report run's folder of a kind and date, through its `LATEST` pointer."""
    folder = reports_dir / kind / day
    return folder / (folder / "LATEST").read_text().strip()


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
def spark(emulator_address: dict[str, str]):
    """The one SparkSession of the test session, s3a pointed at the session's emulator; a test that reads or
    writes S3 asks for the emulator too (the pure transform tests run without one)."""
    from glue_local.runtime.spark import get_spark

    session = get_spark(load_settings({**os.environ, **emulator_address}), app_name="ecomdwh-tests")
    yield session
    session.stop()


@dataclass(frozen=True)
class DailyGold:
    """The session's pipeline-built lake and warehouses (see `daily_gold`)."""

    settings: Settings  # its env (buckets), its DuckDB warehouse and its PostgreSQL database
    truth: dict  # the generator's ground truth
    manifests: dict[tuple[str, str], dict]  # (landing day, entity) -> the Glue run's manifest
    last_results: list[dict]  # run results of the last day's incremental build on DuckDB
    replayed: Path  # the DuckDB warehouse as it was before that build, with its compiled SQL replayed


@pytest.fixture(scope="session")
def daily_gold(
    spark, session_settings: Settings, pg_params: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> DailyGold:
    """Three generated landing days, each landed, run through the Glue jobs, loaded and built with dbt on DuckDB
    one day at a time as a daily schedule would, and on PostgreSQL from the second day (a full build, then an
    incremental one): the one pipeline-built lake and warehouse of the session. Tests only read it; a test that
    changes it works on a copy (another env name, another file)."""
    from ecomdwh import dbt_runner, landing
    from ecomdwh.generator import generate
    from ecomdwh.warehouse.load import load
    from glue_local.runtime import runner

    folder = tmp_path_factory.mktemp("daily-gold")
    truth = generate(folder / "bronze", days=3, orders_per_day=150, seed=21, bad_rate=0.06)
    settings = session_settings.with_overrides(
        env="dailygold", duckdb_path=folder / "ecomdwh.duckdb", pg=new_pg_database(pg_params)
    )
    emulator.create_buckets(settings)
    replayed = folder / "replayed.duckdb"  # each day the warehouse before its build; the last one replayed
    # PostgreSQL's builds keep dbt's artifacts apart: each target then parses partially, and a build on one
    # target runs beside the next day's steps on the other.
    on_pg = settings.with_overrides(dbt_target_root=folder / "dbt-pg" / "target", dbt_log_root=folder / "dbt-pg")
    files = landing.plan(folder / "bronze")
    days = landing.landing_days(files)
    manifests: dict[tuple[str, str], dict] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-build") as pg_builds:
        pg_build = None
        for day in days:
            landing.land(settings, [f for f in files if f.ingest_date == day])
            for manifest in runner.run_bronze_to_silver(spark, settings):
                manifests[day, manifest["entity"]] = manifest
            load(settings, "local")
            shutil.copy(settings.warehouse_path, replayed)
            dbt_runner.build(settings, "local")
            if day == days[-1]:
                # The benchmark's "same SQL without dbt", read now: dbt/target holds this build's SQL until the next.
                last_results = dbt_runner.run_results(settings)
                dbt_runner.replay_sql(settings, replayed, last_results, full_refresh=False)
            # PostgreSQL too, from the second day: its incremental runs alter tables where DuckDB's do not
            # (Redshift's way), and its first build takes two days at once, as a schedule that starts late does.
            if day != days[0]:
                if pg_build is not None:
                    pg_build.result()
                load(settings, "pg")
                pg_build = pg_builds.submit(dbt_runner.build, on_pg, "pg")
        if pg_build is not None:
            pg_build.result()
    return DailyGold(settings, truth, manifests, last_results, replayed)


@pytest.fixture(scope="session")
def small_gold(daily_gold: DailyGold) -> tuple[Settings, dict]:
    """The session's pipeline-built warehouse (DuckDB, `settings.warehouse_path`) and its ground truth."""
    return daily_gold.settings, daily_gold.truth


@pytest.fixture(scope="session")
def pg_params() -> Iterator[dict[str, str]]:
    """A PostgreSQL 15 server for the test session, on 127.0.0.1 only, stopped after."""
    from ecomdwh.devtools import pgserver

    with pgserver.server(free_port()) as params:
        yield params


def new_pg_database(pg_params: dict[str, str]) -> dict[str, str]:
    """A fresh database on the session's PostgreSQL server; its connection parameters."""
    import psycopg2

    name = f"t{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(**pg_params)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"create database {name}")
    con.close()
    return {**pg_params, "dbname": name}


@pytest.fixture
def pg_db(pg_params: dict[str, str]) -> dict[str, str]:
    """A fresh database of its own on the session's PostgreSQL server, so tests never see each other's schemas."""
    return new_pg_database(pg_params)
