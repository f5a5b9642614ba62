"""A DB-API connection to the warehouse of a dbt target: what notebooks and loaders use.

    from ecomdwh import warehouse
    con = warehouse.connect()          # the configured target (ECOMDWH_TARGET, default local)

`local` is the DuckDB file dbt builds, `pg` the PostgreSQL server, `redshift` the
Serverless workgroup; credentials come from the settings (environment variables).
"""

from __future__ import annotations

from ecomdwh.errors import UserError, duckdb_open_error
from ecomdwh.settings import TARGETS, Settings, get_settings


def resolve_target(settings: Settings, target: str | None) -> str:
    chosen = target or settings.target
    if chosen not in TARGETS:
        raise UserError(f"Unknown target {chosen!r}; use one of {', '.join(TARGETS)}.")
    return chosen


def connect(settings: Settings | None = None, target: str | None = None, read_only: bool = False):
    """A connection to the target's warehouse (a cursor() gives execute/description/fetchall on each)."""
    settings = settings or get_settings()
    target = resolve_target(settings, target)
    if target == "local":
        return _duckdb(settings, read_only)
    if target == "pg":
        return _postgres(settings)
    return _redshift(settings)


def _duckdb(settings: Settings, read_only: bool):
    import duckdb

    from ecomdwh.warehouse import reader

    path = settings.warehouse_path
    if read_only and not path.exists():
        raise UserError(f"There is no local warehouse at {path} yet; `make demo` (or `ecomdwh run`) builds it.")
    if read_only:  # readers never hold the file: writers run beside open notebooks
        return reader.ShortLivedConnection(path, lambda exc: duckdb_open_error(exc, settings, path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # A reader holds the file only for one query: wait for it rather than fail.
        return reader.open_when_free(lambda: duckdb.connect(str(path)), reader.WRITER_WAIT_SECONDS)
    except duckdb.Error as exc:  # locked, damaged or truncated, disk full: each says what to do
        raise duckdb_open_error(exc, settings, path) from exc


def _postgres(settings: Settings):
    import psycopg2

    p = settings.pg
    try:
        return psycopg2.connect(
            host=p["host"], port=int(p["port"]), user=p["user"], password=p.get("password", ""), dbname=p["dbname"]
        )
    except psycopg2.OperationalError as exc:
        raise UserError(
            f"Cannot reach PostgreSQL at {p['host']}:{p['port']} ({str(exc).strip().splitlines()[0]}); "
            "start it or set ECOMDWH_PG_HOST/PORT/USER/PASSWORD/DBNAME."
        ) from exc


def _redshift(settings: Settings):
    import redshift_connector

    r = settings.redshift
    if not r.get("host"):
        raise UserError("The redshift target needs ECOMDWH_REDSHIFT_HOST (the Serverless workgroup endpoint).")
    options = {"host": r["host"], "port": int(r.get("port", 5439)), "database": r.get("dbname", "dev")}
    if r.get("method") == "iam":
        options |= {"iam": True, "is_serverless": True, "region": r.get("region", settings.region)}
        options |= {"db_user": r["user"]} if r.get("user") else {}
    else:
        options |= {"user": r.get("user", "admin"), "password": r.get("password", "")}
    try:
        return redshift_connector.connect(**options)
    except Exception as exc:  # the driver raises several unrelated types for one cause: unreachable
        raise UserError(f"Cannot connect to Redshift at {r['host']} ({exc}); check ECOMDWH_REDSHIFT_*.") from exc


def read_sql(con, sql: str, params=None):
    """A query's result as a pandas DataFrame, through the DB-API cursor every target's driver offers;
    `params` are bound to the query's placeholders in the driver's own style."""
    import pandas as pd

    cur = con.cursor()
    try:
        if params:
            cur.execute(sql, params)
        else:
            cur.execute(sql)
        names = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)
    finally:
        cur.close()
