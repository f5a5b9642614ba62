"""`ecomdwh load`: committed silver partitions -> the warehouse's `silver` schema, each row exactly once.

A partition (entity, ingest_date, job_run_id) goes in with its bookkeeping row in
one transaction, so loading twice loads nothing and a failed load leaves no half
partition. Whether a row is already in the warehouse is decided by what it is (its
content or key, `schema.identity_match`), never by its run id: a lake emptied by an
emulator restart and rebuilt by new Glue runs loads nothing twice. The lake carries an id
(`lake.lake_id`); a load that finds a new one says the lake was reset.

Locally the parquet objects are fetched in parallel and read as Arrow
(one S3 round trip per object: a landing day is a small file, and there can be
hundreds), cast to the silver types by DuckDB, and inserted into DuckDB or, through
COPY, into PostgreSQL; Redshift COPYs from S3 itself (ecomdwh.warehouse.redshift).
"""

from __future__ import annotations

import io

from ecomdwh import lake
from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from ecomdwh.warehouse import redshift, schema
from ecomdwh.warehouse.connection import connect, resolve_target
from ecomdwh.warehouse.ledger import LoadResult, loaded_partitions, note_lake, pending_partitions


def entity_names(entities: list[str] | None) -> list[str]:
    names = entities or list(ENTITIES)
    unknown = [n for n in names if n not in ENTITIES]
    if unknown:
        raise UserError(f"Unknown entity {', '.join(unknown)}; the contract has {', '.join(ENTITIES)}.")
    return names


# Partitions per transaction: one round trip per batch, memory bounded (Olist lands ~600 days).
BATCH_PARTITIONS = 200


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


def insert_new_rows_sql(entity_name: str, batch: str) -> str:
    """Insert the batch's rows that the warehouse does not hold yet (by identity, not by run)."""
    entity = ENTITIES[entity_name]
    table = f"{schema.SCHEMA}.{entity_name}"
    match = schema.identity_match(entity, "t", "b")
    return (
        f"insert into {table} select b.* from {batch} as b where not exists (select 1 from {table} as t where {match})"
    )


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


def _load_duckdb(settings: Settings, names: list[str]) -> LoadResult:
    con = _utc_duckdb(connect(settings, "local"))
    result = LoadResult()
    try:
        for statement in schema.ddl():
            con.execute(statement)
        note_lake(con, settings, result, "current_localtimestamp()")
        for name, batch in pending_batches(settings, names, loaded_partitions(con.cursor())):
            rows = lake.read_partitions(settings, batch)
            con.register("silver_batch", rows)
            con.begin()
            con.execute(f"create or replace temp table typed_batch as {typed_select(name, 'silver_batch')}")
            [(inserted,)] = con.execute(insert_new_rows_sql(name, "typed_batch")).fetchall()
            bookkeeping = partition_counts_sql(name, "silver_batch", "current_localtimestamp()")
            con.execute(f"insert into {schema.SCHEMA}.{schema.BOOKKEEPING} {bookkeeping}")
            con.execute("drop table typed_batch")
            con.commit()
            con.unregister("silver_batch")
            result.loaded[name] += inserted
            result.already_loaded[name] += rows.num_rows - inserted
    finally:
        con.close()
    return result


def _load_postgres(settings: Settings, names: list[str]) -> LoadResult:
    import duckdb
    from pyarrow import csv

    con = connect(settings, "pg")
    typer = _utc_duckdb(duckdb.connect())  # casts the Arrow batch to the silver types, as on DuckDB
    result = LoadResult()
    try:
        with con.cursor() as cur:
            for statement in schema.ddl():
                cur.execute(statement)
            note_lake(cur, settings, result, "localtimestamp")
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
                cur.execute(f"create temp table typed_batch (like {schema.SCHEMA}.{name}) on commit drop")
                cur.copy_expert(f"copy typed_batch ({', '.join(rows.column_names)}) from stdin (format csv)", buffer)
                cur.execute(insert_new_rows_sql(name, "typed_batch"))
                inserted = cur.rowcount
                cur.executemany(
                    f"insert into {schema.SCHEMA}.{schema.BOOKKEEPING} values (%s, %s, %s, %s, localtimestamp)",
                    [row[:4] for row in counts],
                )
                con.commit()
                result.loaded[name] += inserted
                result.already_loaded[name] += rows.num_rows - inserted
    finally:
        typer.close()
        con.close()
    return result


def load(settings: Settings, target: str | None = None, entities: list[str] | None = None) -> LoadResult:
    """Load every committed silver row not yet in the target; returns rows loaded and skipped per entity."""
    target = resolve_target(settings, target)
    names = entity_names(entities)
    if target == "local":
        return _load_duckdb(settings, names)
    if target == "pg":
        return _load_postgres(settings, names)
    return redshift.load(settings, names)
