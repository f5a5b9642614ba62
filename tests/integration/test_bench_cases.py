"""The `olist`, `glue-history` and `glue-session` bench cases, end to end at a tiny size: each phase runs, measured.

Timings are reported, never asserted (machine load would make them flaky); the full sizes run in `ecomdwh bench`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomdwh import pipeline
from ecomdwh.contract import ENTITIES
from ecomdwh.devtools import benchmark
from ecomdwh.devtools.bench import glue_history, glue_session
from ecomdwh.generator import generate
from ecomdwh.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark]


def test_olist_case_runs_every_step_of_a_run_on_a_small_olist_export(spark, session_settings: Settings, tmp_path):
    lines: list[str] = []
    [result], path = benchmark.run(session_settings, ["olist"], tmp_path, scale=0.01, progress=lines.append)

    metrics = result["metrics"]
    assert metrics["failed"] == [], metrics["failed"]
    assert metrics["steps"] == {name: "ok" for name in pipeline.STEP_NAMES}
    assert set(metrics["seconds"]) == {"convert", "spark_start", *pipeline.STEP_NAMES}
    assert all(isinstance(s, float) and s >= 0 for s in metrics["seconds"].values())
    assert metrics["whole_run_seconds"] > 0 and metrics["files_landed"] > 0
    assert metrics["export"]["orders"] == 994 and metrics["export"]["days"] == 6
    # A clean export: every bronze row read and written, nothing quarantined or deduplicated.
    for entity, rows in metrics["rows"].items():
        assert rows["bronze"] == rows["read"] == rows["written"] > 0, entity
        assert rows["quarantined"] == rows["deduplicated"] == 0, entity
    assert result["goal_met"] is all(metrics["goals"].values())
    assert "at 0.01 of the full size" in result["measured"]
    assert "olist: step glue" in lines and lines[-1].startswith("case olist done in ")
    written = json.loads(path.read_text())
    assert written["scale"] == 0.01 and written["results"][0]["case"] == "olist"
    work = Path(next(line for line in lines if line.startswith("olist: generating")).rsplit(" in ", 1)[1])
    assert work.parent == session_settings.cache_dir and not work.exists(), "removed after a success"


def test_glue_history_case_times_a_day_on_each_history_a_noop_and_a_sample(
    spark, session_settings: Settings, tmp_path: Path
):
    truth = generate(tmp_path / "sample", days=2, orders_per_day=15, seed=3, bad_rate=0.02)
    lines: list[str] = []
    result = glue_history.case(
        session_settings, lines.append, histories=(2, 3), orders_per_day=15, sample=tmp_path / "sample"
    )

    metrics = result["metrics"]
    assert set(metrics["histories"]) == {"2", "3"}
    for length in metrics["histories"].values():
        assert length["history_rows_read"] > length["one_day_rows_read"] > 0
        assert set(length["one_day_entities"]) == set(ENTITIES)
        assert length["cli_one_day_seconds"] > 0
        # Counted from the emulator's request log, for the run in the case's session and for the command.
        assert length["one_day_s3_requests"] > 0 and length["cli_one_day_s3_requests"] > 0
    assert metrics["s3_requests_growth"] > 0
    assert metrics["histories"]["3"]["history_rows_read"] > metrics["histories"]["2"]["history_rows_read"]
    assert metrics["noop"]["rows_read"] == metrics["noop"]["files_read"] == 0 and metrics["noop"]["seconds"] > 0
    assert metrics["sample"]["rows_read"] == sum(t["rows"] for t in truth["totals"].values())
    assert len(metrics["goals"]) == 6 and result["goal_met"] is all(metrics["goals"].values())
    assert any(line.startswith("glue-history: 3 days: no-op rerun") for line in lines)
    assert any("by `ecomdwh glue run` (own Spark)" in line for line in lines)


def test_glue_session_case_times_the_cli_alone_and_attached_in_pairs(spark, session_settings: Settings):
    lines: list[str] = []
    result = glue_session.case(
        session_settings, lines.append, history_days=0, orders_per_day=10, pairs=1, warm_up=False
    )

    metrics = result["metrics"]
    for runs in (metrics["one_day_seconds"], metrics["noop_seconds"]):
        assert len(runs["alone"]) == len(runs["attached"]) == 1 and all(s > 0 for v in runs.values() for s in v)
    assert len(metrics["goals"]) == 2 and result["goal_met"] is all(metrics["goals"].values())
    # Each run attached, or did not, as its role says (the case checks each command's output).
    assert sum(", attached, benchgs" in line for line in lines) == 2
    assert sum(", alone, benchgs" in line for line in lines) == 2
    assert not (session_settings.cache_dir / "bench-gs").exists()
