"""Loading silver into Redshift Serverless: COPY ... FORMAT AS PARQUET from S3, once per partition.

The parquet files hold every column but the partition ones (ingest_date and
job_run_id are folder names), so each partition is COPYed into a temporary table
and inserted with those two as constants, beside its bookkeeping row, in one
transaction. The statements are plain strings, unit-tested and parsed as Redshift
SQL offline; they run through redshift_connector when a workgroup is configured.
"""

from __future__ import annotations

from ecomdwh import lake
from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from ecomdwh.warehouse import schema
from ecomdwh.warehouse.connection import connect
from ecomdwh.warehouse.ledger import LoadResult, loaded_partitions, note_lake, pending_partitions


def iam_role_clause(settings: Settings) -> str:
    # `default` is the role associated with the Serverless namespace (terraform's redshift_serverless module).
    role = settings.redshift.get("iam_role")
    return f"iam_role '{role}'" if role else "iam_role default"


def copy_statements(settings: Settings, partition: lake.Partition) -> list[str]:
    """The statements that load one silver partition, in order (one transaction)."""
    entity = ENTITIES[partition.entity]
    staging = f"load_{entity.name}"
    file_columns = schema.file_columns(entity)
    table_columns = [n for n, _ in schema.columns(entity)]
    constants = {"ingest_date": f"cast('{partition.ingest_date}' as date)", "job_run_id": f"'{partition.job_run_id}'"}
    select = ", ".join(constants.get(n, n) for n in table_columns)
    source = f"s3://{settings.staging_bucket}/{partition.prefix}"
    return [
        f"create temp table {staging} ({', '.join(f'{n} {t}' for n, t in file_columns)})",
        f"copy {staging} from '{source}' {iam_role_clause(settings)} format as parquet",
        # Rows the warehouse already holds (by content or key, not by run) are not inserted again.
        f"insert into {schema.SCHEMA}.{entity.name} ({', '.join(table_columns)}) select {select} from {staging} "
        f"where not exists (select 1 from {schema.SCHEMA}.{entity.name} as t "
        f"where {schema.identity_match(entity, 't', staging)})",
        f"insert into {schema.SCHEMA}.{schema.BOOKKEEPING} (entity, ingest_date, job_run_id, row_count, loaded_at) "
        f"select '{entity.name}', cast('{partition.ingest_date}' as date), '{partition.job_run_id}', count(*), "
        f"getdate() from {staging}",
        f"drop table {staging}",
    ]


INSERT_STATEMENT = 2  # the position of the insert in copy_statements: its row count is what was loaded


def load(settings: Settings, names: list[str]):
    """COPY every committed partition not yet loaded; needs a configured workgroup and real S3."""
    if settings.uses_emulator:
        raise UserError(
            "Redshift COPYs from real S3, not the local emulator; set ECOMDWH_AWS=1 and the ECOMDWH_REDSHIFT_* "
            "variables (docs/deployment.md), or load the local or pg target."
        )
    con = connect(settings, "redshift")
    result = LoadResult()
    try:
        cur = con.cursor()
        for statement in schema.ddl():
            cur.execute(statement)
        note_lake(cur, settings, result, "getdate()")
        con.commit()
        for partition in list(pending_partitions(settings, names, loaded_partitions(cur))):
            inserted = 0
            for i, statement in enumerate(copy_statements(settings, partition)):
                cur.execute(statement)
                if i == INSERT_STATEMENT:
                    inserted = max(cur.rowcount, 0)
            cur.execute(
                f"select row_count from {schema.SCHEMA}.{schema.BOOKKEEPING} "
                f"where entity = '{partition.entity}' and job_run_id = '{partition.job_run_id}' "
                f"and ingest_date = cast('{partition.ingest_date}' as date)"
            )
            [(rows,)] = cur.fetchall()
            con.commit()
            result.loaded[partition.entity] += inserted
            result.already_loaded[partition.entity] += rows - inserted
    finally:
        con.close()
    return result
