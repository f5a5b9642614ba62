"""`ecomdwh bench`: performance goals, measured on this machine and written to a file.

Each case returns what it measured beside its goal; timed assertions stay out
of the test suite, where machine load would make them flaky.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

Result = dict[str, object]


def _generate(settings: Settings) -> Result:
    from ecomdwh import generator

    with tempfile.TemporaryDirectory(prefix="bench-generate-", dir=settings.cache_dir) as tmp:
        metrics = generator.bench_generate(Path(tmp))
    seconds = float(metrics["seconds"])
    return {
        "case": "generate",
        "goal": "1M order items with their orders, payments and events in <= 60 s",
        "measured": f"{metrics['order_items']:,} order items in {seconds:.1f} s",
        "goal_met": seconds <= 60 and int(metrics["order_items"]) >= 1_000_000,
        "metrics": metrics,
    }


def _glue(settings: Settings) -> Result:
    """A landing day of ~1M order items (with its other entities) through every entity job."""
    import time

    from ecomdwh import emulator, generator, landing
    from glue_local.runtime import runner
    from glue_local.runtime.spark import get_spark

    bench_settings = settings.with_overrides(env="bench")
    emulator.start(bench_settings)
    emulator.delete_buckets(bench_settings)  # a clean slate: no silver from an earlier benchmark
    emulator.create_buckets(bench_settings)
    with tempfile.TemporaryDirectory(prefix="bench-glue-", dir=settings.cache_dir) as tmp:
        truth = generator.generate(Path(tmp), 1, generator.BENCH_ORDERS_PER_DAY, seed=11, bad_rate=0.01)
        landing.land(bench_settings, landing.plan(Path(tmp)))
    started = time.monotonic()
    spark = get_spark(bench_settings, app_name="ecomdwh-bench")
    spark_start = time.monotonic() - started
    per_entity = {}
    for entity in truth["totals"]:
        t0 = time.monotonic()
        [manifest] = runner.run_bronze_to_silver(spark, bench_settings, [entity], None, "job-bookmark-disable")
        seconds = time.monotonic() - t0
        per_entity[entity] = {
            "rows_read": manifest["rows_read"],
            "seconds": round(seconds, 2),
            "rows_per_second": round(manifest["rows_read"] / seconds),
        }
    total = time.monotonic() - started
    items = per_entity["order_items"]["rows_read"]
    emulator.delete_buckets(bench_settings)
    return {
        "case": "glue",
        "goal": "a landing day of 1M order items (and its other entities) in <= 180 s",
        "measured": f"{items:,} order items, all six jobs in {total:.0f} s (Spark start {spark_start:.1f} s)",
        "goal_met": total <= 180 and items >= 1_000_000,
        "metrics": {
            "seconds": round(total, 1),
            "spark_start_seconds": round(spark_start, 1),
            "spark_start_share": round(spark_start / total, 3),
            "entities": per_entity,
        },
    }


CASES: dict[str, Callable[[Settings], Result]] = {"generate": _generate, "glue": _glue}


def run(settings: Settings, cases: list[str] | None, out_dir: Path | None) -> tuple[list[Result], Path]:
    unknown = sorted(set(cases or []) - set(CASES))
    if unknown:
        raise UserError(f"Unknown benchmark case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}.")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    results = [CASES[name](settings) for name in (cases or list(CASES))]
    out_dir = out_dir or settings.root / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "measured_at": stamp,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "node": platform.machine()},
        "results": results,
    }
    path = out_dir / f"bench-{stamp}.json"
    text = json.dumps(document, indent=2, default=str) + "\n"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return results, path
