"""What a warehouse has loaded: its bookkeeping of silver partitions and of the lakes they came from.

Shared by every target's loader (ecomdwh.warehouse.load for DuckDB and PostgreSQL,
ecomdwh.warehouse.redshift for COPY), so each decides "already loaded" the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ecomdwh import lake
from ecomdwh.settings import Settings
from ecomdwh.warehouse import schema


@dataclass
class LoadResult:
    """Rows inserted per entity, rows skipped as already in the warehouse, and whether the lake was reset."""

    loaded: Counter[str] = field(default_factory=Counter)
    already_loaded: Counter[str] = field(default_factory=Counter)
    lake_reset: bool = False

    def note(self) -> str | None:
        if not self.lake_reset:
            return None
        skipped = sum(self.already_loaded.values())
        return (
            "The lake is not the one this warehouse was loaded from (an emulator restart empties it): "
            f"{skipped} row(s) of its silver were already in the warehouse and were recognised by content, "
            "not loaded again."
        )


def loaded_partitions(cursor) -> set[tuple[str, str, str]]:
    cursor.execute(f"select entity, cast(ingest_date as varchar), job_run_id from {schema.SCHEMA}.{schema.BOOKKEEPING}")
    return {tuple(row) for row in cursor.fetchall()}


def pending_partitions(settings: Settings, names: list[str], loaded: set[tuple[str, str, str]]):
    for name in names:
        for partition in lake.committed_partitions(settings, name):
            if (partition.entity, partition.ingest_date, partition.job_run_id) not in loaded:
                yield partition


def recorded_lakes_sql() -> str:
    return f"select lake_id from {schema.SCHEMA}.{schema.LAKES}"


def note_lake(cursor, settings: Settings, result: LoadResult, now: str) -> None:
    """Record the lake's id; a warehouse loaded before from another lake means the lake was reset."""
    current = lake.lake_id(settings, create=True)
    cursor.execute(recorded_lakes_sql())
    recorded = {row[0] for row in cursor.fetchall()}
    if current not in recorded:
        result.lake_reset = bool(recorded)
        cursor.execute(f"insert into {schema.SCHEMA}.{schema.LAKES} values ('{current}', {now})")
