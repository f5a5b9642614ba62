"""What each layer holds, measured independently, as small DataFrames the expectation suites check.

Every frame is measured from its own layer, never derived from another one:
bronze by counting the lines of the landed files, the Glue side from the run
manifests, silver and quarantine by reading the committed parquet, the warehouse
and gold by SQL on the target. The suites in expectations/ then say how they
must agree. What holds inside the warehouse alone (SCD2 versions, enum values in
their domains) is dbt's to test; these frames hold what spans layers or a threshold.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ecomdwh import aws, lake
from ecomdwh.contract import ENTITIES, INGEST_DATE_RE, Entity, gunzipped
from ecomdwh.settings import Settings
from ecomdwh.warehouse import read_sql

# Spark's line reader ends a line at \n, \r\n or \r and skips empty lines; the job drops blank ones.
_LINE_END = re.compile(r"\r\n|\r|\n")
GOLD_FACT = "gold.fact_order_items"


@dataclass
class Layers:
    """The measurements of one reconciliation run; each frame is validated by the suite of the same name."""

    layer_counts: pd.DataFrame
    money: pd.DataFrame
    referential: pd.DataFrame
    freshness: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return dict(vars(self))


def data_lines(entity: Entity, data: bytes, name: str) -> int:
    """Data rows in one landing file, counted the way the Glue job reads lines.

    A .gz that does not decompress counts as one row: the job quarantines it whole as one.
    """
    if name.endswith(".gz"):
        content = gunzipped(data)
        if content is None:
            return 1
        data = content
    text = data.decode("utf-8", errors="replace")
    lines = [line for line in _LINE_END.split(text) if line]  # Spark skips empty lines
    if entity.format == "csv":
        lines = lines[1:]  # the header
    return sum(1 for line in lines if line.strip(" "))  # the job drops blank lines


def bronze_rows(settings: Settings) -> dict[str, dict[str, int]]:
    """Rows per entity and landing day in the raw bucket (parallel GETs)."""
    s3 = aws.s3(settings)
    files: list[tuple[Entity, str, str]] = []
    for entity in ENTITIES.values():
        for page in aws.list_pages(settings, settings.raw_bucket, f"{entity.path}/"):
            for obj in page.get("Contents", []):
                day = INGEST_DATE_RE.match(obj["Key"].split("/")[-2])
                if day and obj["Key"].endswith(entity.extensions):
                    files.append((entity, day.group(1), obj["Key"]))

    def rows(item: tuple[Entity, str, str]) -> int:
        entity, _, key = item
        return data_lines(entity, s3.get_object(Bucket=settings.raw_bucket, Key=key)["Body"].read(), key)

    counts: dict[str, dict[str, int]] = {name: {} for name in ENTITIES}
    with ThreadPoolExecutor(8) as pool:
        for (entity, day, _), n in zip(files, pool.map(rows, files), strict=True):
            counts[entity.name][day] = counts[entity.name].get(day, 0) + n
    return counts


def _lake_rows(settings: Settings, manifests: list[dict], entity: str, layer: str) -> int:
    """Rows in the parquet of the partitions the manifests committed (a deleted file counts as missing rows)."""
    files = lake.files_by_partition(settings, entity, layer)
    partitions = lake.partitions_of(manifests, entity, layer)
    return lake.parquet_rows(settings, [f for p in partitions for f in files.get((p.ingest_date, p.job_run_id), [])])


def _scalar(con, sql: str) -> int:
    frame = read_sql(con, sql)
    return int(frame.iloc[0, 0] or 0)


def layer_counts(settings: Settings, con, bronze: dict[str, dict[str, int]]) -> pd.DataFrame:
    """One row per entity: bronze -> Glue manifests -> silver / quarantine parquet -> warehouse -> gold."""
    rows = []
    for name in ENTITIES:
        manifests = lake.committed_manifests(settings, name)
        written = sum(m["rows_written"] for m in manifests)
        quarantined = sum(m["rows_quarantined_total"] for m in manifests)
        deduplicated = sum(m["rows_deduplicated"] for m in manifests)
        rows.append(
            {
                "entity": name,
                "bronze_rows": sum(bronze[name].values()),
                "rows_read": sum(m["rows_read"] for m in manifests),
                "rows_accounted": written + quarantined + deduplicated,
                "rows_written": written,
                "rows_quarantined": quarantined,
                "rows_deduplicated": deduplicated,
                "silver_rows": _lake_rows(settings, manifests, name, "silver"),
                "quarantine_rows": _lake_rows(settings, manifests, name, "quarantine"),
                "warehouse_rows": _scalar(con, f"select count(*) from silver.{name}"),
                "gold_rows": _scalar(con, "select count(*) from gold.fact_order_items")
                if name == "order_items"
                else None,
            }
        )
    frame = pd.DataFrame(rows)
    frame["gold_rows"] = frame["gold_rows"].astype("Int64")
    return frame


MONEY_SQL = """
with silver_items as (
    select
        cast(ingest_date as varchar(10)) as ingest_date,
        count(*) as items,
        sum(quantity * unit_price - discount_amount) as amount
    from silver.order_items
    group by 1
),

gold_items as (
    select cast(ingest_date as varchar(10)) as ingest_date, count(*) as items, sum(total_amount) as amount
    from gold.fact_order_items
    group by 1
)

select
    coalesce(s.ingest_date, g.ingest_date) as ingest_date,
    coalesce(s.items, 0) as silver_items,
    coalesce(g.items, 0) as gold_items,
    coalesce(s.amount, 0) as silver_amount,
    coalesce(g.amount, 0) as gold_amount
from silver_items as s
full outer join gold_items as g on s.ingest_date = g.ingest_date
order by 1
"""


def money(con) -> pd.DataFrame:
    """Per landing day: order items and their line amounts in the warehouse's silver and in gold."""
    frame = read_sql(con, MONEY_SQL)
    for column in ("silver_amount", "gold_amount"):
        frame[column] = frame[column].astype(float).round(2)
    frame["difference"] = (frame["gold_amount"] - frame["silver_amount"]).round(2)
    frame["abs_difference"] = frame["difference"].abs()
    return frame


def referential(con) -> pd.DataFrame:
    """Per dimension: fact rows on its unknown member, and their share of all fact rows."""
    sql = "select dimension, fact_rows, total_fact_rows from data_quality.unknown_member_counts order by 1"
    frame = read_sql(con, sql)
    total = frame["total_fact_rows"].astype(float)
    frame["unknown_share"] = (frame["fact_rows"].astype(float) / total.where(total > 0)).fillna(0.0).round(6)
    return frame


def freshness(con, run_date: str) -> pd.DataFrame:
    """Per entity: the newest landing day in the warehouse and how many days it lags the run date."""
    rows = []
    for name in ENTITIES:
        newest = read_sql(con, f"select max(ingest_date) as newest from silver.{name}").iloc[0, 0]
        newest = pd.Timestamp(newest).date() if newest is not None and not pd.isna(newest) else None
        lag = (date.fromisoformat(run_date) - newest).days if newest else None
        rows.append({"entity": name, "newest_ingest_date": newest.isoformat() if newest else None, "lag_days": lag})
    frame = pd.DataFrame(rows)
    frame["lag_days"] = frame["lag_days"].astype("Int64")
    return frame


def measure(settings: Settings, con, run_date: str) -> Layers:
    bronze = bronze_rows(settings)
    return Layers(
        layer_counts=layer_counts(settings, con, bronze),
        money=money(con),
        referential=referential(con),
        freshness=freshness(con, run_date),
    )
