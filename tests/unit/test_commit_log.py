"""commit_log.resolve: which runs are committed, read in a handful of requests, never trusting a
checkpoint beyond the manifests that exist."""

from __future__ import annotations

from ecomdwh.commit_log import resolve


def manifest(run: str, finished: str, checkpoint: str | None = None) -> dict:
    return {"job_run_id": run, "finished_at": finished} | ({"checkpoint": checkpoint} if checkpoint else {})


class Store:
    """Objects by location, counting reads."""

    def __init__(self, objects: dict[str, dict]) -> None:
        self.objects = objects
        self.reads: list[str] = []

    def read(self, location: str) -> dict:
        self.reads.append(location)
        return self.objects.get(location, {})


def history(runs: int) -> tuple[dict, Store]:
    """`runs` committed runs, each checkpointing the ones before it, the key index covering the first two."""
    objects, listed = {}, {}
    for i in range(runs):
        run = f"r{i}"
        objects[f"m/{run}"] = manifest(run, f"2026-03-{i + 1:02d}", checkpoint=f"c/{run}")
        objects[f"c/{run}"] = {
            "runs": [objects[f"m/r{k}"] for k in range(i)],
            "key_index": ["k/r1"] if i >= 2 else [],
            "key_index_covers": ["r0", "r1"] if i >= 2 else [],
        }
        listed[run] = (float(i), f"m/{run}")
    return listed, Store(objects)


def test_nothing_listed_is_nothing_committed():
    assert resolve({}, Store({}).read).manifests == []


def test_a_long_history_costs_the_newest_manifest_and_its_checkpoint():
    listed, store = history(30)
    runs = resolve(listed, store.read)
    assert [m["job_run_id"] for m in runs.manifests] == [f"r{i}" for i in range(30)]
    assert store.reads == ["m/r29", "c/r29"]
    assert runs.key_index == ["k/r1"] and [m["job_run_id"] for m in runs.outside_key_index()][:2] == ["r2", "r3"]


def test_a_manifest_no_checkpoint_holds_is_read_on_its_own():
    listed, store = history(5)
    store.objects["m/beside"] = manifest("beside", "2026-03-04T12:00:00Z")
    listed["beside"] = (3.5, "m/beside")  # committed while r4 ran
    runs = resolve(listed, store.read)
    assert "beside" in runs.run_ids and len(runs.manifests) == 6
    assert sorted(store.reads) == ["c/r4", "m/beside", "m/r4"]


def test_a_run_whose_manifest_is_gone_is_not_committed_and_its_index_is_not_used():
    listed, store = history(5)
    del listed["r0"]
    runs = resolve(listed, store.read)
    assert runs.run_ids == {"r1", "r2", "r3", "r4"}
    assert runs.key_index == [] and runs.key_index_covers == set()


def test_manifests_from_before_checkpoints_are_each_read():
    listed = {f"r{i}": (float(i), f"m/r{i}") for i in range(3)}
    store = Store({f"m/r{i}": manifest(f"r{i}", f"2026-03-0{i + 1}") for i in range(3)})
    runs = resolve(listed, store.read)
    assert [m["job_run_id"] for m in runs.manifests] == ["r0", "r1", "r2"]
    assert len(store.reads) == 3
