"""Every dbt model and each of its columns is described in the YAML beside the model (`<model>.yml`, one model per
file; sources in `__sources.yml`), so dbt's docs explain the whole warehouse. The columns listed are the ones the
models build: the docs-site test checks them against dbt's catalog of the built warehouse
(tests/integration/test_docs_site.py)."""

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


def test_each_model_has_its_own_yaml_beside_it():
    misplaced = []
    for path in sorted(MODELS.rglob("*.yml")):
        content = yaml.safe_load(path.read_text()) or {}
        if path.name.startswith("__"):  # __sources.yml: sources only
            misplaced += [f"{path.name}: {key}" for key in content if key not in ("version", "sources")]
            continue
        names = [model["name"] for model in content.get("models") or []]
        if names != [path.stem] or content.get("sources"):
            misplaced.append(f"{path.relative_to(MODELS)}: {names}")
        misplaced += [
            f"{path.relative_to(MODELS)}: unit test of {test['model']}"
            for test in content.get("unit_tests") or []
            if test["model"] != path.stem
        ]
    assert misplaced == []
    assert sorted(p.with_suffix("") for p in MODELS.rglob("*.sql")) == sorted(
        p.with_suffix("") for p in MODELS.rglob("*.yml") if not p.name.startswith("__")
    )


def test_every_seed_column_has_a_description():
    seeds = (yaml.safe_load((ROOT / "dbt" / "seeds" / "_seeds.yml").read_text()) or {})["seeds"]
    for seed in seeds:
        header = (ROOT / "dbt" / "seeds" / f"{seed['name']}.csv").read_text().splitlines()[0].split(",")
        described = {c["name"] for c in seed.get("columns") or [] if (c.get("description") or "").strip()}
        assert sorted(described) == sorted(header), seed["name"]


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
