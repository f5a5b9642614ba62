"""Disaster recovery of the lake: its replica buckets, a restore from them, and the drill that proves gold comes back.

On AWS, S3 replication (terraform/modules/disaster_recovery) keeps `<project>-<env>-dr-raw` and
`<project>-<env>-dr-staging` in the DR region: the buckets of the environment `<env>-dr`, so
`replica_of(settings)` reads them. The emulator has no replication: `replicate` copies the lake into
replica buckets on the same emulator, standing in for it.

    from ecomdwh import recovery
    recovery.replicate(settings)                  # emulator only: what S3 replication does on AWS
    result = recovery.drill(settings, folder)     # restore the lake from the replica, rebuild gold, reconcile
    result.reconciliation.raise_if_failed()
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ecomdwh import aws, lake
from ecomdwh.contract import INGEST_DATE_RE
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

# The DR environment's name is the environment's plus this: its buckets are the replicas.
REPLICA_SUFFIX = "-dr"


def replica_of(settings: Settings) -> Settings:
    """The settings of the DR environment, whose raw and staging buckets are the replicas of these."""
    return settings.with_overrides(env=f"{settings.env}{REPLICA_SUFFIX}")


def _lake_buckets(settings: Settings) -> tuple[str, str]:
    return settings.raw_bucket, settings.staging_bucket


@dataclass
class CopyResult:
    """Objects copied and found already in place, per destination bucket."""

    copied: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def sentence(self) -> str:
        parts = [f"s3://{b}: {n} copied, {self.unchanged.get(b, 0)} already there" for b, n in self.copied.items()]
        return "; ".join(parts)


def _listing(settings: Settings, bucket: str) -> dict[str, tuple[int, str]]:
    """Key -> (size, ETag) of every object in a bucket."""
    return {
        obj["Key"]: (obj["Size"], obj["ETag"])
        for page in aws.list_pages(settings, bucket)
        for obj in page.get("Contents", [])
    }


def _ensure_buckets(settings: Settings, buckets: tuple[str, ...]) -> None:
    """On the emulator, create missing buckets (on AWS terraform owns them, and a missing one is an error)."""
    s3 = aws.s3(settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in buckets:
        if bucket in existing:
            continue
        if not settings.uses_emulator:
            raise UserError(f"The bucket s3://{bucket} does not exist; apply terraform/environments first.")
        s3.create_bucket(Bucket=bucket)


def copy_lake(settings: Settings, source: Settings, destination: Settings) -> CopyResult:
    """Copy raw and staging of `source` into those of `destination`: every object missing there or different
    (size or ETag). Nothing is deleted, so a rerun after an interruption copies only what is left."""
    s3 = aws.s3(settings)
    result = CopyResult()
    for src_bucket, dst_bucket in zip(_lake_buckets(source), _lake_buckets(destination), strict=True):
        present, wanted = _listing(settings, dst_bucket), _listing(settings, src_bucket)
        todo = [key for key, stamp in wanted.items() if present.get(key) != stamp]

        def copy(key: str, src_bucket: str = src_bucket, dst_bucket: str = dst_bucket) -> None:
            s3.copy({"Bucket": src_bucket, "Key": key}, dst_bucket, key)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(copy, todo))
        result.copied[dst_bucket] = len(todo)
        result.unchanged[dst_bucket] = len(wanted) - len(todo)
    return result


def replicate(settings: Settings) -> CopyResult:
    """Stand in for S3 replication on the emulator: copy the lake into the replica buckets."""
    replica = replica_of(settings)
    if not settings.uses_emulator:
        raise UserError(
            "On AWS, S3 replication keeps the replica buckets (terraform/modules/disaster_recovery); "
            "`ecomdwh dr replicate` stands in for it on the emulator only."
        )
    if not lake.has_committed_runs(settings):
        raise UserError(f"There is no lake in s3://{settings.staging_bucket} to replicate; run `ecomdwh run` first.")
    _ensure_buckets(settings, _lake_buckets(replica))
    return copy_lake(settings, settings, replica)


def restore(settings: Settings) -> CopyResult:
    """Copy the lake back from the replica buckets into raw and staging (the drill, and failback's last step)."""
    replica = replica_of(settings)
    _ensure_buckets(settings, _lake_buckets(replica))
    if not lake.has_committed_runs(replica):
        raise UserError(
            f"The replica s3://{replica.staging_bucket} holds no lake to restore "
            "(locally, `ecomdwh dr replicate` fills it)."
        )
    _ensure_buckets(settings, _lake_buckets(settings))
    ours, theirs = lake.lake_id(settings), lake.lake_id(replica)
    if ours is not None and ours != theirs:
        raise UserError(
            f"s3://{settings.staging_bucket} holds another lake (id {ours}, the replica's is {theirs}); "
            "restoring would mix the two: empty raw and staging first."
        )
    return copy_lake(settings, replica, settings)


def newest_landing_day(settings: Settings) -> str:
    """The latest ingest_date in the raw bucket: the day a rebuilt lake is reconciled for."""
    days = {
        match.group(1)
        for page in aws.list_pages(settings, settings.raw_bucket)
        for obj in page.get("Contents", [])
        for part in obj["Key"].split("/")
        if (match := INGEST_DATE_RE.match(part))
    }
    if not days:
        raise UserError(f"s3://{settings.raw_bucket} holds no landing day.")
    return max(days)


@dataclass
class DrillResult:
    restored: CopyResult
    warehouse: Path  # the DuckDB file gold was rebuilt in
    run_date: str
    reconciliation: object  # reconcile.Reconciliation: its layers hold the counts and the money per day

    @property
    def passed(self) -> bool:
        return bool(self.reconciliation.passed)

    def sentence(self) -> str:
        layers = self.reconciliation.layers
        counts = layers.layer_counts.set_index("entity")
        read, accounted = int(counts["rows_read"].sum()), int(counts["rows_accounted"].sum())
        fact_rows = int(counts.loc["order_items", "gold_rows"])
        amount = float(layers.money["gold_amount"].sum())
        return (
            f"gold rebuilt in {self.warehouse}: {fact_rows} fact row(s), total_amount {amount:.2f}; "
            f"{read} row(s) read = {accounted} written + quarantined + deduplicated"
        )


def drill(
    settings: Settings,
    folder: Path,
    log: Callable[[str], None] = lambda line: None,
    max_unknown_share: float = 0.10,
    freshness_sla_days: int = 1,
) -> DrillResult:
    """Restore the lake from the replica, rebuild gold from it in a new DuckDB warehouse (its own dbt target and
    logs in `folder`), and reconcile every layer with no money tolerance: the equation and the counts must hold.
    The thresholds are those of `ecomdwh report reconcile`, for a world whose gaps exceed the defaults."""
    from ecomdwh import dbt_runner, reconcile
    from ecomdwh.warehouse.load import load

    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    if warehouse.exists():
        raise UserError(f"{warehouse} exists; the drill rebuilds gold in a new warehouse, so give it a new folder.")
    restored = restore(settings)
    log(f"restored the lake from {replica_of(settings).env}: {restored.sentence()}")
    rebuilt = settings.with_overrides(
        target="local",
        duckdb_path=warehouse,
        dbt_target_root=folder / "dbt-target",
        dbt_log_root=folder / "dbt-logs",
    )
    loaded = load(rebuilt, "local")
    log(f"loaded {sum(loaded.loaded.values())} silver row(s) into {warehouse}")
    dbt_runner.build(rebuilt, "local")
    day = newest_landing_day(rebuilt)
    result = reconcile.reconcile(
        day,
        "local",
        tolerance=0.0,
        report_dir=folder / "reconcile",
        max_unknown_share=max_unknown_share,
        freshness_sla_days=freshness_sla_days,
        settings=rebuilt,
    )
    return DrillResult(restored, warehouse, day, result)
