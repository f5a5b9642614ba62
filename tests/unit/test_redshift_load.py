"""The Redshift load's statements: COPY ... FORMAT AS PARQUET per silver partition, checked offline as Redshift SQL."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.lake import Partition
from ecomdwh.settings import load_settings
from ecomdwh.warehouse import redshift, schema

AWS = {"ECOMDWH_AWS": "1", "ECOMDWH_PROJECT": "shop", "ECOMDWH_ENV": "prod"}
ROLE = "arn:aws:iam::123456789012:role/shop-prod-redshift-copy"


def statements(entity: str, env: dict[str, str] | None = None) -> list[exp.Expression]:
    settings = load_settings({**AWS, **(env or {})})
    partition = Partition(entity, "2026-03-14", "run-0042")
    return [sqlglot.parse_one(s, read="redshift") for s in redshift.copy_statements(settings, partition)]


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_each_partition_is_copied_as_parquet_from_its_staging_prefix(entity: str):
    create, copy, _, _, drop = statements(entity)
    assert isinstance(copy, exp.Copy)
    [source] = copy.args["files"]
    assert source.name == f"s3://shop-prod-staging/silver/{entity}/ingest_date=2026-03-14/job_run_id=run-0042/"
    params = {p.this.name.lower(): p.expression.name.lower() for p in copy.args["params"]}
    assert params == {"format": "parquet"}
    # The temp table holds exactly the parquet's columns; the partition columns come from the path.
    assert isinstance(create, exp.Create) and create.find(exp.TemporaryProperty)
    staging = create.this.this.name
    assert copy.this.name == staging and drop.find(exp.Table).name == staging
    file_columns = [c.name for c in create.this.expressions]
    assert file_columns == [n for n, _ in schema.file_columns(ENTITIES[entity])]
    assert not set(file_columns) & set(schema.PARTITION_COLUMNS)


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_the_insert_fills_every_silver_column_with_the_partition_as_constants(entity: str):
    _, _, insert, bookkeeping, _ = statements(entity)
    assert isinstance(insert, exp.Insert) and isinstance(bookkeeping, exp.Insert)
    target = insert.this
    assert target.this.db == schema.SCHEMA and target.this.name == entity
    assert [c.name for c in target.expressions] == [n for n, _ in schema.columns(ENTITIES[entity])]
    select = insert.expression
    values = dict(zip([c.name for c in target.expressions], select.expressions, strict=True))
    assert values["ingest_date"].sql("redshift") == "CAST('2026-03-14' AS DATE)"
    assert values["job_run_id"].sql("redshift") == "'run-0042'"
    # A row the warehouse holds already (a rebuilt lake's new run ids) is not inserted twice.
    exists = select.args["where"].find(exp.Exists)
    assert exists is not None and exists.find(exp.Table).name == entity
    # The bookkeeping row counts the COPYed rows, in the same transaction: a partition loads once.
    assert bookkeeping.this.this.name == schema.BOOKKEEPING
    assert bookkeeping.expression.find(exp.Count) is not None


def test_the_copy_uses_the_namespace_default_role_unless_one_is_named():
    copy = statements("orders")[1]
    assert copy.args["credentials"].args["iam_role"].name.lower() == "default"
    copy = statements("orders", {"ECOMDWH_REDSHIFT_IAM_ROLE": ROLE})[1]
    assert copy.args["credentials"].args["iam_role"].name == ROLE


def test_the_silver_schema_ddl_parses_as_redshift():
    for statement in schema.ddl():
        tree = sqlglot.parse_one(statement, read="redshift")
        assert isinstance(tree, exp.Create), statement


def test_loading_redshift_from_the_local_emulator_is_refused_with_what_to_set():
    settings = load_settings({"ECOMDWH_TARGET": "redshift"})
    with pytest.raises(UserError, match="ECOMDWH_AWS=1"):
        redshift.load(settings, sorted(ENTITIES))
