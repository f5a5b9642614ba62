"""dbt's ref() and source() as relation names, from the dbt project's files; the renderer of `%%sql` cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomdwh import relations
from ecomdwh.errors import UserError


def test_models_seeds_and_sources_of_the_project():
    assert relations.ref("fact_order_items") == "gold.fact_order_items"
    assert relations.ref("dim_date") == "gold.dim_date"
    assert relations.ref("stg_shop__orders") == "staging.stg_shop__orders"
    assert relations.ref("int_orders_current") == "intermediate.int_orders_current"
    assert relations.ref("payment_methods") == "gold.payment_methods"  # a seed
    assert relations.ref("unknown_member_counts") == "data_quality.unknown_member_counts"  # not in the star schema
    # Sources are named by source system; all of them are in the warehouse schema silver.
    assert relations.source("shop", "orders") == "silver.orders"
    assert relations.source("payments", "payments") == "silver.payments"
    assert relations.source("logistics", "shipment_events") == "silver.shipment_events"


def test_unknown_names_say_so():
    with pytest.raises(UserError, match="no model or seed named 'nope'"):
        relations.ref("nope")
    with pytest.raises(UserError, match="no source table shop.nope"):
        relations.source("shop", "nope")
    # The old single source `silver`: the error names the source that holds the table now.
    moved = r"no source named 'silver': the table silver.orders is source\('shop', 'orders'\)"
    with pytest.raises(UserError, match=moved):
        relations.source("silver", "orders")


def test_render_replaces_refs_and_sources_and_refuses_other_jinja():
    sql = "select * from {{ ref('fact_order_items') }} f join {{source( \"shop\" , 'orders' )}} o using (order_id)"
    assert relations.render(sql) == "select * from gold.fact_order_items f join silver.orders o using (order_id)"
    assert relations.render("from {{ ref('x') }}", ref=lambda name: f"other.{name}") == "from other.x"
    for other in ("select {{ var('x') }}", "{% if true %}select 1{% endif %}", "select {{ ref(x) }}"):
        with pytest.raises(ValueError, match="Jinja"):
            relations.render(other)


def test_folder_schemas_inherit_and_a_model_config_wins(tmp_path: Path):
    (tmp_path / "models" / "marts" / "finance").mkdir(parents=True)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "dbt_project.yml").write_text(
        "models:\n  ecomdwh:\n    +schema: base\n    marts:\n      +schema: gold\n"
        "seeds:\n  ecomdwh:\n    +schema: ref_data\n"
    )
    (tmp_path / "models" / "top.sql").write_text("select 1")
    (tmp_path / "models" / "marts" / "finance" / "revenue.sql").write_text("select 1")
    (tmp_path / "models" / "marts" / "moved.sql").write_text("{{ config(schema='elsewhere', alias='renamed') }}\n1")
    (tmp_path / "seeds" / "codes.csv").write_text("a\n1\n")
    (tmp_path / "models" / "sources.yml").write_text(
        "sources:\n  - name: raw\n    tables:\n      - name: events\n        identifier: events_v2\n"
    )
    assert relations.ref("top", tmp_path) == "base.top"
    assert relations.ref("revenue", tmp_path) == "gold.revenue"  # a subfolder inherits its parent's schema
    assert relations.ref("moved", tmp_path) == "elsewhere.renamed"
    assert relations.ref("codes", tmp_path) == "ref_data.codes"
    assert relations.source("raw", "events", tmp_path) == "raw.events_v2"  # the schema defaults to the source name
