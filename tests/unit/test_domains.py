"""The contract's domains (ecomdwh.contract, what the Glue jobs validate against) and dbt's seeds (what staging's
relationships tests and the fixed dimensions read) name the same values."""

from __future__ import annotations

import csv

import pytest

from ecomdwh.contract import DOMAINS
from tests.conftest import ROOT

SEEDS = {"payment_method": "payment_methods", "shipment_status": "shipment_statuses"}


@pytest.mark.parametrize("domain", sorted(SEEDS))
def test_each_seeded_domain_holds_the_contracts_values_in_its_order(domain: str):
    with (ROOT / "dbt" / "seeds" / f"{SEEDS[domain]}.csv").open(newline="") as fh:
        codes = tuple(row[domain] for row in csv.DictReader(fh))
    assert codes == DOMAINS[domain]
