"""A read-only handle on the local DuckDB warehouse that holds the file only while a query runs.

DuckDB lets one process write a file or many read it, never both: a notebook holding a
read-only connection makes every `load`, `dbt build` and `run` fail. This handle opens the
file for each query, fetches the result and closes it, so any number of notebooks can stay
open beside the pipeline, and the next query sees what the last build wrote. A query that
arrives while a writer holds the file waits for it (up to `WAIT_SECONDS`).

It speaks the DB-API subset the workbench and jupysql use (`cursor()`, `execute`, `description`,
`rowcount`, `fetchall`, `fetchone`, `fetchmany`, `commit`, `rollback`) plus `df()` for a DataFrame.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# How long a query waits for a writer (a build takes a minute), and a writer for readers' queries.
WAIT_SECONDS = 120.0
WRITER_WAIT_SECONDS = 15.0
_POLL = 0.2


def _is_lock_error(exc: Exception) -> bool:
    return "Could not set lock" in str(exc) or "Conflicting lock" in str(exc)


def open_when_free(opener: Callable[[], Any], wait_seconds: float = WAIT_SECONDS):
    """Call `opener` until the file is not locked by another process, for up to `wait_seconds`."""
    import duckdb

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return opener()
        except duckdb.Error as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_POLL)


class Cursor:
    arraysize = 1

    def __init__(self, handle: ShortLivedConnection) -> None:
        self._handle = handle
        self.description: Sequence[tuple] | None = None
        self.rowcount = -1  # DB-API: unknown, as DuckDB's own cursor says for a query
        self._rows: list[tuple] = []

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        con = self._handle.open()
        try:
            result = con.execute(sql, parameters) if parameters is not None else con.execute(sql)
            self.description = result.description
            self._rows = result.fetchall() if result.description else []
        finally:
            con.close()
        return self

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    def df(self):
        import pandas as pd

        names = [d[0] for d in self.description or []]
        return pd.DataFrame.from_records(self.fetchall(), columns=names)

    fetchdf = df

    def close(self) -> None:
        self._rows = []


class ShortLivedConnection:
    """Looks like a read-only DuckDB connection; opens the warehouse file per query."""

    def __init__(self, path: Path, on_error: Callable[[Exception], Exception]) -> None:
        self.path = path
        self._on_error = on_error

    def open(self):
        import duckdb

        try:
            return open_when_free(lambda: duckdb.connect(str(self.path), read_only=True))
        except duckdb.Error as exc:
            raise self._on_error(exc) from exc

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def sql(self, sql: str):
        """A query's result as a pandas DataFrame."""
        return self.execute(sql).df()

    def close(self) -> None:
        """Nothing is held between queries, so there is nothing to close."""

    # Read-only and one connection per query: nothing is ever left to commit or roll back.
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def __enter__(self) -> ShortLivedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
