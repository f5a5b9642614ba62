"""The contract's domains (ecomdwh.contract, what the Glue jobs validate against) and dbt's seeds (what staging's
relationships tests and the fixed dimensions read) name the same values, and dbt tests each enum column once."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
import yaml

from ecomdwh.contract import DOMAINS, ENTITIES
from tests.conftest import ROOT

DBT = ROOT / "dbt"
SEEDS = {
    "payment_method": "payment_methods",
    "shipment_status": "shipment_statuses",
    "customer_segment": "customer_segments",
    "order_status": "order_statuses",
    "order_channel": "order_channels",
    "payment_status": "payment_statuses",
}


def domain_columns() -> list[tuple[str, str]]:
    """(entity, domain) for each enum column of the contract."""
    return [(e.name, c.domain) for e in ENTITIES.values() for c in e.columns if c.domain]


def column_tests() -> list[tuple[str, str, str, dict]]:
    """(model, column, test name, its arguments) for every generic test on a model column in the dbt project."""
    found = []
    for path in sorted((DBT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or []:
                    name, config = next(iter(test.items())) if isinstance(test, dict) else (test, {})
                    found.append((model["name"], column["name"], name, (config or {}).get("arguments") or {}))
    return found


def test_every_domain_has_a_seed():
    assert sorted(SEEDS) == sorted(DOMAINS)
    assert sorted(d for _, d in domain_columns()) == sorted(DOMAINS)


@pytest.mark.parametrize("domain", sorted(SEEDS))
def test_each_seeded_domain_holds_the_contracts_values_in_its_order(domain: str):
    with (DBT / "seeds" / f"{SEEDS[domain]}.csv").open(newline="") as fh:
        codes = tuple(row[domain] for row in csv.DictReader(fh))
    assert codes == DOMAINS[domain]


def test_each_enum_column_is_tested_once_in_staging_against_its_seed():
    tests = column_tests()
    on_seeds = Counter((model, args["to"]) for model, _, name, args in tests if name == "relationships")
    for entity, domain in domain_columns():
        staging = f"stg_{ENTITIES[entity].source}__{entity}"
        to_seed = f"ref('{SEEDS[domain]}')"
        assert on_seeds[(staging, to_seed)] == 1, (entity, domain)
        assert sum(n for (_, to), n in on_seeds.items() if to == to_seed) == 1, domain
        [field] = [a["field"] for m, _, n, a in tests if n == "relationships" and a.get("to") == to_seed]
        assert field == domain
    # The domains live in the seeds only: no list of a domain's values repeated in a model's tests.
    for model, column, name, args in tests:
        if name == "accepted_values":
            values = set(args.get("values") or [])
            assert not any(set(codes) <= values for codes in DOMAINS.values()), (model, column)
