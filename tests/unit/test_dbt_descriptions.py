"""Every dbt model and each of its columns is described in the models' YAML, so dbt's docs explain the whole
warehouse. The columns listed are the ones the models build: the docs-site test checks them against dbt's catalog
of the built warehouse (tests/integration/test_docs_site.py)."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT

MODELS = ROOT / "dbt" / "models"


def described_models() -> dict[str, dict]:
    models: dict[str, dict] = {}
    for path in sorted(MODELS.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            models[model["name"]] = model
    return models


def test_every_model_file_has_a_description():
    models = described_models()
    files = sorted(p.stem for p in MODELS.rglob("*.sql"))
    assert len(files) >= 16
    assert [name for name in files if name not in models] == []
    assert [name for name in files if not (models[name].get("description") or "").strip()] == []


def test_every_model_column_has_a_description():
    missing = [
        f"{name}.{column['name']}"
        for name, model in described_models().items()
        for column in model.get("columns") or []
        if not (column.get("description") or "").strip()
    ]
    assert missing == []


def test_the_fact_lists_all_its_columns():
    fact = described_models()["fact_order_items"]
    names = [c["name"] for c in fact["columns"]]
    assert len(names) == len(set(names)) == 14
    sql = (MODELS / "marts" / "fact_order_items.sql").read_text()
    final = sql.split("final as (", 1)[1].split("from with_watermark", 1)[0]
    selected = [line.strip().rstrip(",") for line in final.splitlines() if line.strip() and line.strip() != "select"]
    assert sorted(selected) == sorted(names)
