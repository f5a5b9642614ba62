"""Which commands may attach to a Glue session: those whose own Spark would run with the same settings."""

from __future__ import annotations

import os
from pathlib import Path

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
