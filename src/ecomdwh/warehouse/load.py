"""`ecomdwh load`: committed silver partitions -> the warehouse's `silver` schema, each exactly once.

A partition (entity, ingest_date, job_run_id) goes in with its bookkeeping row in
one transaction, so loading twice loads nothing and a failed load leaves no half
partition. Locally the parquet objects are fetched in parallel and read as Arrow
(one S3 round trip per object: a landing day is a small file, and there can be
hundreds), cast to the silver types by DuckDB, and inserted into DuckDB or, through
COPY, into PostgreSQL; Redshift COPYs from S3 itself (ecomdwh.warehouse.redshift).
"""

from __future__ import annotations

import io
from collections import Counter

from ecomdwh import lake
from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from ecomdwh.warehouse import schema
from ecomdwh.warehouse.connection import connect, resolve_target


def entity_names(entities: list[str] | None) -> list[str]:
    names = entities or list(ENTITIES)
    unknown = [n for n in names if n not in ENTITIES]
    if unknown:
        raise UserError(f"Unknown entity {', '.join(unknown)}; the contract has {', '.join(ENTITIES)}.")
    return names


# Partitions per transaction: one round trip per batch, memory bounded (Olist lands ~600 days).
BATCH_PARTITIONS = 200


def loaded_partitions(cursor) -> set[tuple[str, str, str]]:
    cursor.execute(f"select entity, cast(ingest_date as varchar), job_run_id from {schema.SCHEMA}.{schema.BOOKKEEPING}")
    return {tuple(row) for row in cursor.fetchall()}


def pending_partitions(settings: Settings, names: list[str], loaded: set[tuple[str, str, str]]):
    for name in names:
        for partition in lake.committed_partitions(settings, name):
            if (partition.entity, partition.ingest_date, partition.job_run_id) not in loaded:
                yield partition


def pending_batches(settings: Settings, names: list[str], loaded: set[tuple[str, str, str]]):
    """(entity, {partition: its parquet URIs}) for the committed partitions not loaded yet, in batches."""
    for name in names:
        todo = list(pending_partitions(settings, [name], loaded))
        if not todo:
            continue
        files = lake.files_by_partition(settings, name)
        for partition in todo:
            if not files.get((partition.ingest_date, partition.job_run_id)):
                raise UserError(
                    f"Silver partition s3://{settings.staging_bucket}/{partition.prefix} is listed by a committed "
                    "manifest but holds no parquet; it was deleted after the Glue run: reset the job's bookmark "
                    "and rerun it."
                )
        for i in range(0, len(todo), BATCH_PARTITIONS):
            yield name, {p: files[(p.ingest_date, p.job_run_id)] for p in todo[i : i + BATCH_PARTITIONS]}


def typed_select(entity_name: str, relation: str) -> str:
    """The silver table's columns, in order and cast to its types, from `relation` (DuckDB SQL)."""
    typed = ", ".join(f"cast({n} as {t}) as {n}" for n, t in schema.columns(ENTITIES[entity_name]))
    return f"select {typed} from {relation}"


def partition_counts_sql(entity_name: str, relation: str, now: str) -> str:
    return (
        f"select '{entity_name}', cast(ingest_date as date), job_run_id, count(*), {now} "
        f"from {relation} group by ingest_date, job_run_id"
    )


def _utc_duckdb(con):
    # Silver timestamps are UTC instants; casting them to plain timestamps must not shift them.
    con.execute("set TimeZone = 'UTC'")
    return con


def _load_duckdb(settings: Settings, names: list[str]) -> Counter[str]:
    con = _utc_duckdb(connect(settings, "local"))
    loaded: Counter[str] = Counter()
    try:
        for statement in schema.ddl():
            con.execute(statement)
        for name, batch in pending_batches(settings, names, loaded_partitions(con.cursor())):
            rows = lake.read_partitions(settings, batch)
            con.register("silver_batch", rows)
            con.begin()
            con.execute(f"insert into {schema.SCHEMA}.{name} {typed_select(name, 'silver_batch')}")
            bookkeeping = partition_counts_sql(name, "silver_batch", "current_localtimestamp()")
            con.execute(f"insert into {schema.SCHEMA}.{schema.BOOKKEEPING} {bookkeeping}")
            con.commit()
            con.unregister("silver_batch")
            loaded[name] += rows.num_rows
    finally:
        con.close()
    return loaded


def _load_postgres(settings: Settings, names: list[str]) -> Counter[str]:
    import duckdb
    from pyarrow import csv

    con = connect(settings, "pg")
    typer = _utc_duckdb(duckdb.connect())  # casts the Arrow batch to the silver types, as on DuckDB
    loaded: Counter[str] = Counter()
    try:
        with con.cursor() as cur:
            for statement in schema.ddl():
                cur.execute(statement)
            con.commit()
            for name, batch in pending_batches(settings, names, loaded_partitions(cur)):
                typer.register("silver_batch", lake.read_partitions(settings, batch))
                rows = typer.sql(typed_select(name, "silver_batch")).to_arrow_table()
                counts = typer.execute(partition_counts_sql(name, "silver_batch", "null")).fetchall()
                typer.unregister("silver_batch")
                buffer = io.BytesIO()
                # Strings are always quoted, so "" stays an empty string and an unquoted blank is NULL.
                csv.write_csv(rows, buffer, csv.WriteOptions(include_header=False))
                buffer.seek(0)
                cur.copy_expert(
                    f"copy {schema.SCHEMA}.{name} ({', '.join(rows.column_names)}) from stdin (format csv)", buffer
                )
                cur.executemany(
                    f"insert into {schema.SCHEMA}.{schema.BOOKKEEPING} values (%s, %s, %s, %s, localtimestamp)",
                    [row[:4] for row in counts],
                )
                con.commit()
                loaded[name] += rows.num_rows
    finally:
        typer.close()
        con.close()
    return loaded


def load(settings: Settings, target: str | None = None, entities: list[str] | None = None) -> dict[str, int]:
    """Load every committed silver partition not yet in the target; returns rows loaded per entity."""
    target = resolve_target(settings, target)
    names = entity_names(entities)
    if target == "local":
        loaded = _load_duckdb(settings, names)
    elif target == "pg":
        loaded = _load_postgres(settings, names)
    else:
        from ecomdwh.warehouse import redshift

        loaded = redshift.load(settings, names)
    return dict(sorted(loaded.items()))
