import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecomdwh.settings import load_settings
from tests.conftest import _SCRATCH_VARS, ROOT


def test_defaults_are_the_offline_laptop_setup():
    s = load_settings({})
    assert s.endpoint_url == "http://127.0.0.1:4566"
    assert s.emulator_backend == "localstack"
    assert s.target == "local"
    assert s.buckets == ("ecomdwh-dev-raw", "ecomdwh-dev-staging", "ecomdwh-dev-logs")


def test_bucket_names_follow_project_and_env_like_terraform():
    s = load_settings({"ECOMDWH_PROJECT": "shop", "ECOMDWH_ENV": "prod"})
    assert (s.raw_bucket, s.staging_bucket, s.logs_bucket) == ("shop-prod-raw", "shop-prod-staging", "shop-prod-logs")


def test_endpoint_and_state_dir_from_env(tmp_path: Path):
    s = load_settings({"AWS_ENDPOINT_URL": "http://127.0.0.1:4599", "ECOMDWH_STATE_DIR": str(tmp_path)})
    assert (s.emulator_host, s.emulator_port) == ("127.0.0.1", 4599)
    assert s.state_dir == tmp_path


def test_real_aws_means_no_endpoint():
    s = load_settings({"ECOMDWH_AWS": "1"})
    assert s.endpoint_url is None and not s.uses_emulator


@pytest.mark.parametrize(("name", "value"), [("ECOMDWH_EMULATOR", "docker"), ("ECOMDWH_TARGET", "snowflake")])
def test_bad_values_are_refused_with_the_choices(name: str, value: str):
    with pytest.raises(ValueError, match=name):
        load_settings({name: value})


def test_nothing_but_settings_reads_the_environment():
    src = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(src))
        for folder in ("src", "glue_local")
        for p in (src / folder).rglob("*.py")
        if p.name != "settings.py"
        and any(read in p.read_text() for read in ("os.getenv(", "os.environ.get(", "os.environ["))
    ]
    assert offenders == []


def test_child_env_gives_a_child_process_the_same_settings():
    for env in (
        {"ECOMDWH_ENV": "x", "AWS_ENDPOINT_URL": "http://127.0.0.1:9999", "ECOMDWH_DUCKDB_PATH": "/tmp/w.duckdb",
         "ECOMDWH_TARGET": "pg", "ECOMDWH_PG_PORT": "6543", "ECOMDWH_REPORTS_DIR": "/tmp/r"},
        {"ECOMDWH_AWS": "1", "ECOMDWH_PROJECT": "shop", "ECOMDWH_REDSHIFT_HOST": "wg.example"},
    ):  # fmt: skip
        parent = load_settings(env)
        child = load_settings(parent.child_env())
        same = ("buckets", "endpoint_url", "target", "warehouse_path", "state_dir", "reports_dir", "pg", "redshift")
        for name in same:
            assert getattr(child, name) == getattr(parent, name), name


def test_get_settings_follows_the_environment_as_a_notebook_changes_it(monkeypatch):
    from ecomdwh.settings import get_settings

    monkeypatch.setenv("ECOMDWH_TARGET", "local")
    monkeypatch.setenv("ECOMDWH_PG_PORT", "5432")
    assert (get_settings().target, get_settings().pg["port"]) == ("local", "5432")
    monkeypatch.setenv("ECOMDWH_TARGET", "pg")  # what `%env ECOMDWH_TARGET=pg` does in a kernel
    monkeypatch.setenv("ECOMDWH_PG_PORT", "6543")
    assert (get_settings().target, get_settings().pg["port"]) == ("pg", "6543")
    assert get_settings() is get_settings()  # parsed once per environment


def test_dbt_writes_where_dbt_target_path_and_dbt_log_path_say():
    from ecomdwh.dbt_runner import dbt_variables

    default = load_settings({})
    assert (default.dbt_target_path, default.dbt_log_path) == (default.dbt_dir / "target", default.dbt_dir / "logs")
    moved = load_settings({"DBT_TARGET_PATH": "/tmp/t", "DBT_LOG_PATH": "/tmp/l"})
    assert (moved.dbt_target_path, moved.dbt_log_path) == (Path("/tmp/t"), Path("/tmp/l"))
    assert load_settings(moved.child_env()).dbt_target_path == Path("/tmp/t")
    assert {k: dbt_variables(moved)[k] for k in ("DBT_TARGET_PATH", "DBT_LOG_PATH")} == {
        "DBT_TARGET_PATH": "/tmp/t",
        "DBT_LOG_PATH": "/tmp/l",
    }


def test_each_test_worker_writes_to_a_scratch_folder_of_its_own():
    """dbt's run_results.json, reports and warehouses of two workers never mix (a shared dbt target made one
    worker's build summary read the other's results)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "ECOMDWH_REPORTS_DIR", "ECOMDWH_DUCKDB_PATH", "ECOMDWH_STATE_DIR"):
        assert f"ecomdwh-tests-{worker}-" in os.environ[name], name


def fresh_pytest_env() -> dict[str, str]:
    """The environment for a child pytest that starts as a fresh one does: no scratch folders or xdist worker
    of this run's."""
    ours = {*os.environ.get(_SCRATCH_VARS, "").split(","), _SCRATCH_VARS}
    return {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("PYTEST_XDIST")}


def test_a_passing_run_removes_its_scratch_folders_and_one_that_does_not_pass_keeps_them(tmp_path: Path):
    """Each pytest process's scratch folder goes with a passing run; a run that does not pass keeps it, dbt's
    logs and all."""
    env = {**fresh_pytest_env(), "TMPDIR": str(tmp_path)}
    test = "tests/unit/test_settings.py::test_each_test_worker_writes_to_a_scratch_folder_of_its_own"
    for args, code, left in (([], 0, 0), (["-n", "2"], 0, 0), (["--deselect", test, "-k", "no_such_test"], 5, 1)):
        ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test, *args],
                             cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
        assert ran.returncode == code, ran.stdout[-2000:]
        assert len(list(tmp_path.glob("ecomdwh-tests-*"))) == left, args


def test_make_test_fast_leaves_out_the_tests_of_the_pipeline_built_gold():
    """A test reading the session's gold waits for its three-day pipeline build, so it is slow wherever it is
    written; `-m "not slow"` (`make test-fast`) keeps the same files' other tests."""
    files = ["tests/integration/test_notebook_reads.py", "tests/integration/test_notebook_sql.py"]
    collected = {}
    for marks in ("not slow", "slow"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "-m", marks]
        ran = subprocess.run([*command, *files], cwd=ROOT, env=fresh_pytest_env(), capture_output=True, text=True)
        assert ran.returncode == 0, ran.stdout[-2000:]
        collected[marks] = {line.split("::")[1] for line in ran.stdout.splitlines() if "::" in line}
    assert collected["slow"] == {
        "test_builds_run_beside_an_open_notebook_and_its_next_cell_sees_them",
        "test_sql_cells_and_dbt_on_both_targets",
    }
    assert "test_failures_say_what_to_do_in_one_line" in collected["not slow"]
    assert not collected["slow"] & collected["not slow"]


def test_spark_java_options_reach_the_driver_and_a_clusters_executors():
    from glue_local.runtime.spark import CODE_CACHE, spark_conf

    plain = spark_conf(load_settings({}))
    assert "spark.executor.extraJavaOptions" not in plain
    tuned = spark_conf(load_settings({"ECOMDWH_SPARK_JAVA_OPTIONS": " -XX:TieredStopAtLevel=1 "}))
    # After the project's own options (log4j, the class archive), so the user's win where they overlap.
    assert tuned["spark.driver.extraJavaOptions"] == plain["spark.driver.extraJavaOptions"] + " -XX:TieredStopAtLevel=1"
    assert tuned["spark.executor.extraJavaOptions"] == f"{CODE_CACHE} -XX:TieredStopAtLevel=1"
