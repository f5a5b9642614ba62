"""The warehouse's `silver` schema, derived from the data contract: one typed table per entity.

The same column names and types on every engine, so the dbt sources read the same
thing on DuckDB, PostgreSQL and Redshift. Lineage columns follow the contract's
columns in the order the Glue job writes them.
"""

from __future__ import annotations

from ecomdwh.contract import ENTITIES, Entity

SCHEMA = "silver"
BOOKKEEPING = "loaded_partitions"
LAKES = "loaded_lakes"

# Contract type -> SQL type; the same spelling works on DuckDB, PostgreSQL and Redshift.
_TYPES = {
    "string": "varchar(1024)",
    "email": "varchar(320)",
    "timestamp": "timestamp",
    "date": "date",
    "money": "decimal(18,2)",
    "integer": "integer",
}

# What the Glue job adds to every silver row; ingest_date and job_run_id are the partition folders.
LINEAGE: tuple[tuple[str, str], ...] = (
    ("source_file", "varchar(1024)"),
    ("source_line", "integer"),
    ("ingest_date", "date"),
    ("job_run_id", "varchar(64)"),
    ("loaded_at", "timestamp"),
    ("row_hash", "varchar(64)"),
)
PARTITION_COLUMNS = ("ingest_date", "job_run_id")


def columns(entity: Entity) -> list[tuple[str, str]]:
    """(name, SQL type) of an entity's silver table, in table order."""
    return [(c.name, _TYPES[c.type]) for c in entity.columns] + list(LINEAGE)


def file_columns(entity: Entity) -> list[tuple[str, str]]:
    """The columns inside the parquet files (the partition columns live in the path)."""
    return [(n, t) for n, t in columns(entity) if n not in PARTITION_COLUMNS]


def create_table(entity: Entity, schema: str = SCHEMA, name: str | None = None) -> str:
    body = ",\n    ".join(f"{n} {t}" for n, t in columns(entity))
    return f"create table if not exists {schema}.{name or entity.name} (\n    {body}\n)"


def create_bookkeeping(schema: str = SCHEMA) -> str:
    """Which partitions are in the warehouse: loading is once per (entity, ingest_date, job_run_id)."""
    return (
        f"create table if not exists {schema}.{BOOKKEEPING} (\n"
        "    entity varchar(64) not null,\n"
        "    ingest_date date not null,\n"
        "    job_run_id varchar(64) not null,\n"
        "    row_count bigint not null,\n"
        "    loaded_at timestamp not null\n"
        ")"
    )


def create_lakes(schema: str = SCHEMA) -> str:
    """Which lakes (by the id in the staging bucket) the warehouse was loaded from: a new id is a reset lake."""
    return (
        f"create table if not exists {schema}.{LAKES} (\n"
        "    lake_id varchar(64) not null,\n"
        "    first_loaded_at timestamp not null\n"
        ")"
    )


def identity_match(entity: Entity, table: str, batch: str) -> str:
    """SQL true when a batch row is already in the table: a row is its content and key, never its run.

    Versioned entities keep every distinct version, so a row is its content (row_hash); immutable
    ones keep one row per key, so a row is its key.
    """
    columns = ("row_hash",) if entity.versioned else entity.key
    return " and ".join(f"{table}.{c} = {batch}.{c}" for c in columns)


def ddl(schema: str = SCHEMA) -> list[str]:
    return [
        f"create schema if not exists {schema}",
        *(create_table(e, schema) for e in ENTITIES.values()),
        create_bookkeeping(schema),
        create_lakes(schema),
    ]
