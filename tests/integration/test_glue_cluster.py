"""The Glue job, unchanged, on a Spark standalone cluster of two workers (loopback): each entity's
manifest equals the generator's ground truth, and both workers ran executors of the application."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdwh import generator, lake, landing
from ecomdwh.devtools import emulator
from ecomdwh.settings import Settings
from glue_local.runtime.cluster import standalone_cluster
from tests.conftest import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]


def test_the_jobs_run_unchanged_on_a_two_worker_cluster(
    session_settings: Settings, emulator_env: dict[str, str], tmp_path: Path
):
    settings = session_settings.with_overrides(env="cluster")
    emulator.create_buckets(settings)
    truth = generator.generate(tmp_path / "bronze", 2, 25, seed=13, bad_rate=0.05)
    landing.land(settings, landing.plan(tmp_path / "bronze"))
    work = tmp_path / "cluster"

    with standalone_cluster(work, workers=2) as master:
        env = {**emulator_env, "ECOMDWH_ENV": "cluster", "ECOMDWH_SPARK_MASTER": master}
        result = run_cli("glue", "run", "bronze_to_silver", env=env, timeout=900)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Setting default log level" not in result.stderr  # Spark's start-up notice stays out of the output
    assert result.stdout.count(" file(s), read ") == len(truth["totals"])  # a progress line per entity job
    for entity, expected in truth["totals"].items():
        [m] = lake.committed_manifests(settings, entity)
        got = (m["rows_read"], m["rows_written"], m["rows_quarantined"], m["rows_deduplicated"])
        assert got == (expected["rows"], expected["written"], expected["quarantined"], expected["duplicates"]), entity
    # Both workers ran executors of the job's application (each keeps a folder per application).
    assert all(list((work / f"worker-{i}").glob("app-*")) for i in range(2))
    emulator.delete_buckets(settings)
