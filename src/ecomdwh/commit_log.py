"""Which Glue runs are committed: the one reading of the commit protocol, for Spark and for boto3 alike.

A run's manifest (`manifests/<entity>/<run>.json`) is its commit. The manifest may name a
checkpoint that holds the manifests of every run committed before it, and the key index that
covers some of those runs (glue_local/etl/silver_store.py writes both). Given the listed
manifests and a way to read an object, `resolve` reads the newest manifest, its checkpoint, and
only the manifests that checkpoint does not hold: three requests however long the history.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CommittedRuns:
    manifests: list[dict] = field(default_factory=list)  # oldest first
    key_index: list[str] = field(default_factory=list)  # parquet folders (keys) holding the identities of...
    key_index_covers: set[str] = field(default_factory=set)  # ...these runs' silver rows

    @property
    def run_ids(self) -> set[str]:
        return {m["job_run_id"] for m in self.manifests}

    def outside_key_index(self) -> list[dict]:
        """Committed runs whose silver rows the key index does not hold."""
        return [m for m in self.manifests if m["job_run_id"] not in self.key_index_covers]


def run_id_of(manifest_key: str) -> str:
    return posixpath.basename(manifest_key).removesuffix(".json")


def resolve(listed: dict[str, tuple[float, str]], read_json: Callable[[str], dict]) -> CommittedRuns:
    """`listed`: run id -> (modified time, key in the staging bucket) of every manifest; `read_json(key)`
    reads an object of the staging bucket. Checkpoints and key indexes are named by such keys too.

    Only runs whose manifest is listed count: a checkpoint never makes a run committed, and a key
    index that holds rows of a run no longer committed is not used.
    """
    if not listed:
        return CommittedRuns()
    newest_run = max(listed, key=lambda run: (listed[run][0], listed[run][1]))
    latest = read_json(listed[newest_run][1])
    records: dict[str, dict] = {}
    key_index: list[str] = []
    covers: set[str] = set()
    if latest.get("checkpoint"):
        checkpoint = read_json(latest["checkpoint"])
        records = {m["job_run_id"]: m for m in checkpoint.get("runs", []) if m.get("job_run_id") in listed}
        key_index, covers = checkpoint.get("key_index", []), set(checkpoint.get("key_index_covers", []))
    records[newest_run] = latest
    for run, (_, location) in listed.items():
        if run not in records:  # committed beside the newest run, or before checkpoints existed
            records[run] = read_json(location)
    if not covers <= set(listed):
        key_index, covers = [], set()
    manifests = sorted(records.values(), key=lambda m: (m.get("finished_at", ""), m.get("job_run_id", "")))
    return CommittedRuns(manifests, key_index, covers)
