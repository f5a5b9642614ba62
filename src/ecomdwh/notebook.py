"""The SQL and dbt loop in a notebook: `%load_ext ecomdwh`.

    %load_ext ecomdwh

    %%sql
    select count(*) as items from {{ ref('fact_order_items') }}

    %%sql orders <<
    select status, count(*) as n from {{ source('shop', 'orders') }} group by status

    %dbt build -s dim_date          # in this kernel, through dbt's Python runner; a summary DataFrame
    %dbt show -s dim_date           # the preview rows as a DataFrame
    use_target("pg")                # the next query and build run on PostgreSQL

`%%sql` is jupysql's, bound to the current target's warehouse (`ECOMDWH_TARGET`): the local DuckDB file
through the short-lived read-only handle (nothing holds the file between queries), PostgreSQL or
Redshift through their drivers. The settings are read again at every query, so `use_target(...)` and
`%env ECOMDWH_PG_PORT=...` take effect on the next cell. Cells return pandas DataFrames. jupysql renders
a cell with Jinja against the notebook's namespace; `ref` and `source` there give dbt's relation names.

The same as plain functions for scripts: `dbt("build -s my_model")`, `use_target("pg")`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from collections.abc import Sequence
from typing import Any
from unittest import mock

from ecomdwh import relations
from ecomdwh.errors import UserError
from ecomdwh.settings import TARGETS, Settings, get_settings

# jupysql depends on ploomber-core, whose telemetry can send usage statistics and ask PyPI for new
# versions. jupysql 0.11 no longer calls it, but any code that does reads these variables first: keep
# both off, before jupysql is imported.
os.environ.update(PLOOMBER_STATS_ENABLED="false", PLOOMBER_VERSION_CHECK_DISABLED="true")

__all__ = ["DbtError", "dbt", "load_ipython_extension", "ref", "source", "use_target"]

ref = relations.ref
source = relations.source

# jupysql's name for each target's SQL dialect (used by its plots and profiles; queries are sent as written).
_DIALECTS = {"local": "duckdb", "pg": "postgresql", "redshift": "redshift"}
_ALIAS = "ecomdwh"


# --- the connection jupysql holds ------------------------------------------------------------------------------


class Warehouse:
    """A DB-API connection that is always the current target's: each cursor comes from the warehouse the
    settings name now. The local DuckDB handle is made anew for every query (it holds nothing); a server
    connection is kept until the settings change, in autocommit so no transaction stays open."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._server = None

    def cursor(self) -> _Cursor:
        from ecomdwh.warehouse import connect

        settings = get_settings()
        if settings.target == "local":
            self.close()
            return _Cursor(connect(settings, read_only=True).cursor())
        if self._server is None or settings != self._settings or getattr(self._server, "closed", 0):
            self.close()
            self._server = connect(settings)
            self._server.autocommit = True
            self._settings = settings
        return _Cursor(self._server.cursor())

    # Autocommit: every statement is its own transaction.
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        server, self._server, self._settings = self._server, None, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.close()


_DRIVERS = ("_duckdb", "duckdb", "psycopg2", "redshift_connector")
# jupysql wraps an error whose text has these words in a hint about its snippets: the driver's own words,
# in sentence case, are shown instead.
_JUPYSQL_WRAPS = re.compile(r"\b(Catalog|Parser) Error\b")


class _Cursor:
    """DB-API rows only. DuckDB's `.df()` would make jupysql run each query a second time for its
    DataFrame; a driver's error becomes a UserError, shown as its message rather than a traceback."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, parameters: Any = None) -> _Cursor:
        try:
            self._cursor.execute(sql) if parameters is None else self._cursor.execute(sql, parameters)
        except UserError:
            raise
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in _DRIVERS:
                raise
            raise UserError(_JUPYSQL_WRAPS.sub(lambda m: f"{m.group(1)} error", str(exc).strip())) from exc
        return self

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return getattr(self._cursor, "rowcount", -1)

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    def fetchall(self):
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()


_WAREHOUSE = Warehouse()


def _bind() -> None:
    """Make the current target's warehouse jupysql's current connection (once created, it is reused)."""
    from sql.connection import ConnectionManager, DBAPIConnection

    existing = ConnectionManager.connections.get(_ALIAS)
    if existing is not None:
        ConnectionManager.current = existing
        return

    class TargetConnection(DBAPIConnection):
        @property
        def dialect(self):
            return _DIALECTS[get_settings().target]

        def _transpile_query(self, query):
            # The SQL is written for the target, as dbt's is: jupysql would rewrite it with sqlglot.
            return query

    TargetConnection(_WAREHOUSE, alias=_ALIAS)  # registers itself as jupysql's current connection


def use_target(target: str) -> None:
    """Switch this kernel to `target` (local, pg, redshift): the next query and `%dbt` run there."""
    if target not in TARGETS:
        raise UserError(f"Unknown target {target!r}; use one of {', '.join(TARGETS)}.")
    os.environ.update(ECOMDWH_TARGET=target)  # what get_settings() reads: every later query and build
    _WAREHOUSE.close()
    if _jupysql_loaded():
        _bind()


def _jupysql_loaded() -> bool:
    import sys

    return "sql.connection" in sys.modules


# --- dbt in this process -----------------------------------------------------------------------------------------


class DbtError(UserError):
    """A dbt command failed; `summary` holds what each node did (empty when dbt stopped before running any)."""

    def __init__(self, message: str, summary=None) -> None:
        super().__init__(message)
        self.summary = summary


# What `%dbt` sets for dbt besides the profile's variables: no console output (the cell shows a summary),
# the whole log in the log file, as `ecomdwh dbt` writes it.
_QUIET = {
    "DBT_LOG_LEVEL": "none",
    "DBT_LOG_LEVEL_FILE": "debug",
    "DBT_USE_COLORS": "false",
    "DBT_USE_COLORS_FILE": "false",
}


def dbt(command: str | Sequence[str]):
    """Run a dbt command on the current target in this process, e.g. `dbt("build -s dim_date")`.

    Returns a DataFrame: for `show`, the preview rows (a dict of them by node when several were shown);
    for commands that run nodes, one row per node (node, resource_type, status, seconds, rows_affected,
    message); for `ls`, the node names. Raises DbtError with one line naming the failed node and why.
    Writing commands (build, run, seed, ...) hold the project's writer lock, as `ecomdwh dbt` does.
    """
    from ecomdwh import writer_lock
    from ecomdwh.dbt_runner import DBT_WRITERS, dbt_subcommand

    args = shlex.split(command) if isinstance(command, str) else list(command)
    subcommand = dbt_subcommand(args)
    if subcommand is None:
        raise UserError(f"No dbt command in {' '.join(args)!r}; e.g. `%dbt build -s dim_date`.")
    settings = get_settings()
    lock = writer_lock.hold(settings, f"%dbt {subcommand}") if subcommand in DBT_WRITERS else contextlib.nullcontext()
    with lock:
        outcome, output = _invoke(settings, args)
    return _result(settings, subcommand, _target_of(args) or settings.target, outcome, output)


def _target_of(args: list[str]) -> str | None:
    """The target dbt's own `--target`/`-t` names, which wins over the settings' one."""
    for flag, value in zip(args, args[1:], strict=False):
        if flag in ("--target", "-t"):
            return value
    return None


def _invoke(settings: Settings, args: list[str]):
    env = {**_dbt_env(settings), **_QUIET}
    output = io.StringIO()
    # dbt reads its flags and the profile's variables from os.environ: set for the call, then as they were.
    with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        from dbt.cli.main import dbtRunner

        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _release_duckdb()
    return outcome, output.getvalue()


def _dbt_env(settings: Settings) -> dict[str, str]:
    """dbt's environment for the settings: the profile's variables and the project's dbt/ and profiles."""
    from ecomdwh.dbt_runner import dbt_variables

    dbt_dir = str(settings.dbt_dir)
    return {**dbt_variables(settings), "DBT_PROJECT_DIR": dbt_dir, "DBT_PROFILES_DIR": dbt_dir}


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in the process after a run, so nothing here holds
    the warehouse file once the command is done (writers elsewhere need it)."""
    import sys

    module = sys.modules.get("dbt.adapters.duckdb.connections")
    if module is None:
        return
    manager = module.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            with contextlib.suppress(Exception):
                manager._ENV.close()
            manager._ENV = None


_FAILED = {"error", "fail", "runtime error"}


def _result(settings: Settings, subcommand: str, target: str, outcome, output: str):
    import pandas as pd

    results = getattr(outcome.result, "results", None)
    if results is None:
        if not outcome.success:
            why = _one_line(str(outcome.exception or "")) or _last_line(output) or "no message"
            raise DbtError(f"dbt {subcommand} failed on the {target} target: {why}")
        if isinstance(outcome.result, list):  # ls
            return pd.DataFrame({"node": outcome.result})
        return None
    summary = _summary(results)
    failed = [r for r in results if _value(r.status) in _FAILED]
    if failed or not outcome.success:
        where = f"{failed[0].node.name}: {_one_line(failed[0].message or '')}" if failed else _last_line(output)
        more = f" ({len(failed) - 1} more failed)" if len(failed) > 1 else ""
        log = settings.dbt_log_path
        raise DbtError(f"dbt {subcommand} failed on the {target} target: {where}{more}; see {log}/dbt.log.", summary)
    if subcommand == "show":
        shown = {r.node.name: _table_frame(r.agate_table) for r in results if getattr(r, "agate_table", None)}
        return next(iter(shown.values())) if len(shown) == 1 else shown
    return summary


def _summary(results) -> Any:
    import pandas as pd

    rows = []
    for r in results:
        response = r.adapter_response or {}
        rows.append(
            {
                "node": r.node.name,
                "resource_type": _value(r.node.resource_type),
                "status": _value(r.status),
                "seconds": round(r.execution_time or 0.0, 2),
                "rows_affected": response.get("rows_affected"),
                "message": _one_line(r.message or response.get("_message") or ""),
            }
        )
    columns = ["node", "resource_type", "status", "seconds", "rows_affected", "message"]
    return pd.DataFrame(rows, columns=columns)


def _table_frame(table):
    """An agate table (dbt show's preview) as a DataFrame; agate's decimals as ints or floats."""
    import pandas as pd

    from ecomdwh.analytics import plain_numbers

    frame = pd.DataFrame([list(row) for row in table.rows], columns=list(table.column_names))
    return plain_numbers(frame)


def _value(item) -> str:
    return str(getattr(item, "value", item))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:400]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:400] if lines else ""


# --- the extension -----------------------------------------------------------------------------------------------


def load_ipython_extension(ipython) -> None:
    """`%load_ext ecomdwh`: jupysql bound to the current target, `ref`/`source`/`use_target` in the
    namespace, the `%dbt` magic, and one-line messages for the errors a user can act on."""
    import importlib.util
    import sys

    from IPython.utils.capture import capture_output

    # jupysql imports Spark Connect's DataFrame when pyspark is installed, and that import raises ImportError
    # without grpcio (which Spark Connect needs and the Glue runtime does not): jupysql then fails to load.
    # Marking the module absent makes it skip Spark Connect, as it does when pyspark is not installed.
    if importlib.util.find_spec("grpc") is None:
        sys.modules.setdefault("pyspark.sql.connect.dataframe", None)
    # jupysql announces where it looked for its settings; nothing of that belongs in the cell.
    with capture_output():
        ipython.extension_manager.load_extension("sql")
    magic = ipython.find_cell_magic("sql").__self__
    magic.autopandas = True
    magic.feedback = 0
    magic.displaycon = False
    _bind()
    ipython.push({"ref": ref, "source": source, "use_target": use_target})
    ipython.register_magic_function(_dbt_magic, "line", "dbt")
    _one_line_errors(ipython)


def _dbt_magic(line: str):
    """%dbt <dbt command>: e.g. `%dbt build -s dim_date`, `%dbt show -s dim_date --limit 10`."""
    from IPython.display import display

    try:
        return dbt(line)
    except DbtError as exc:
        if exc.summary is not None and len(exc.summary):
            display(exc.summary)
        raise


def _one_line_errors(ipython) -> None:
    from botocore import exceptions as boto

    def show(shell, etype, value, tb, tb_offset=None):
        settings = get_settings()
        if settings.debug:  # ECOMDWH_DEBUG=1: the traceback, as the CLI does
            lines = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        elif isinstance(value, UserError):
            lines = [str(value)]
        else:
            from ecomdwh.errors import explain

            explained = explain(value, settings)
            lines = (
                [str(explained)]
                if explained
                else shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
            )
        shell._showtraceback(etype, value, lines)

    ipython.set_custom_exc((UserError, boto.ConnectionError, boto.HTTPClientError), show)
