"""The committed Great Expectations project: one suite and checkpoint per measured frame (the cross-layer and
threshold checks; dbt tests what holds inside the warehouse), and failure messages that name the layer, the row
and the difference."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from ecomdwh.contract import ENTITIES
from ecomdwh.reconcile import checks
from ecomdwh.reconcile.measure import Layers, data_lines
from tests.conftest import ROOT

GX = ROOT / "expectations" / "gx"
FRAMES = [f.name for f in dataclasses.fields(Layers)]


def suite(name: str) -> dict:
    return json.loads((GX / "expectations" / f"{name}.json").read_text())


def test_every_measured_frame_has_a_suite_a_validation_and_a_checkpoint():
    for name in FRAMES:
        assert suite(name)["expectations"], name
        assert (GX / "validation_definitions" / f"{name}.json").exists(), name
        checkpoint = json.loads((GX / "checkpoints" / f"{name}.json").read_text())
        assert checkpoint["result_format"]["unexpected_index_column_names"], name
        assert checkpoint["validation_definitions"][0]["name"] == name


def test_every_expectation_names_its_layer_and_what_it_checks():
    for name in FRAMES:
        for expectation in suite(name)["expectations"]:
            assert expectation["meta"]["layer"] in {"bronze", "glue", "silver", "quarantine", "warehouse", "gold"}
            assert expectation["meta"]["check"]


def test_gx_owns_the_cross_layer_and_threshold_checks_only():
    # SCD2 versions and enum domains are dbt's tests (scd2_invariants, relationships to the seeds), not suites.
    assert sorted(FRAMES) == ["freshness", "layer_counts", "money", "referential"]
    for folder in ("expectations", "validation_definitions", "checkpoints"):
        assert sorted(p.stem for p in (GX / folder).glob("*.json")) == sorted(FRAMES), folder


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    return checks.gx_context(GX, tmp_path_factory.mktemp("gx"))


def test_a_failed_pair_names_the_row_and_the_difference(context):
    frame = pd.DataFrame(
        {
            "entity": list(ENTITIES),
            **{c: [10] * len(ENTITIES) for c in ("bronze_rows", "rows_read", "rows_accounted", "rows_written")},
            **{c: [10] * len(ENTITIES) for c in ("silver_rows", "warehouse_rows")},
            "rows_quarantined": [0] * len(ENTITIES),
            "rows_deduplicated": [0] * len(ENTITIES),
            "quarantine_rows": [0] * len(ENTITIES),
            "gold_rows": pd.array([None, None, None, 10, None, None], dtype="Int64"),
        }
    )
    assert all(c.success for c in checks.run_checkpoint(context, "layer_counts", frame, {}))
    frame.loc[frame["entity"] == "payments", "silver_rows"] = 7
    failures = [f for c in checks.run_checkpoint(context, "layer_counts", frame, {}) for f in c.failures]
    sentences = sorted(f.sentence() for f in failures)
    assert len(sentences) == 2
    assert sentences[0].startswith("silver: payments: rows_written 10 vs silver_rows 7 (difference -3)")
    assert sentences[1].startswith("warehouse: payments: silver_rows 7 vs warehouse_rows 10 (difference +3)")


def test_thresholds_are_suite_parameters(context):
    frame = pd.DataFrame({"dimension": ["dim_products"], "fact_rows": [3], "total_fact_rows": [100]})
    frame["unknown_share"] = 0.03
    assert all(c.success for c in checks.run_checkpoint(context, "referential", frame, {"max_unknown_share": 0.05}))
    [failed] = checks.run_checkpoint(context, "referential", frame, {"max_unknown_share": 0.01})
    assert failed.failures[0].sentence().startswith("gold: dim_products: unknown_share is 0.03, allowed")


@pytest.mark.parametrize(
    ("entity", "text", "rows"),
    [
        ("orders", '{"a":1}\n{"a":2}\n', 2),
        ("orders", '{"a":1}\r\n\r\n   \n{"a":2}', 2),  # blank lines are not rows, a last line needs no newline
        ("customers", "customer_id,email\n1,a\n2,b\n", 2),  # the header is not a row
        ("customers", "customer_id,email\n", 0),
    ],
)
def test_bronze_lines_are_counted_as_the_glue_job_reads_them(entity: str, text: str, rows: int, tmp_path: Path):
    assert data_lines(ENTITIES[entity], text.encode(), "f.jsonl") == rows
