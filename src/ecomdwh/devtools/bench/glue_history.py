"""`ecomdwh bench --case glue-history`: does a day's Glue run grow with the history it lands on?

The committed sample's daily volume (850 orders a day, 2% bad rows) over 14, 60 and 180 days of history,
then one more day: that one-day run, all six entity jobs with bookmarks enabled as `ecomdwh glue run` runs
them, is timed at each history length. To build a long history quickly, its days are landed at once and
glued in one run, as a first load is; then the extra day is landed and glued as a daily run is. The extra
day is the same date at every length (same weekday and season), the history reaching back from it; each
length has an env of its own (`benchgh<days>`), its buckets removed after. The day after it is glued by
`ecomdwh glue run` in a child process with its own Spark, as a user's daily command runs: cold, its JVM
and settings its own. The S3 requests of both one-day runs are counted (from the emulator's request log):
what listings, bookmarks, manifests and the history's reads cost must not grow with the history either.

Also timed: a rerun with nothing new at the longest history, and the committed sample (14 landing days)
glued from empty, the glue step of `ecomdwh run`. One SparkSession serves the whole case; its start is
timed apart.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ecomdwh.devtools.bench import Progress, Result, cli_glue_run, quiet, s3_request_total, scratch_lake
from ecomdwh.settings import Settings

HISTORIES = (14, 60, 180)
ORDERS_PER_DAY = 850  # the committed sample's daily volume
BAD_RATE = 0.02
SEED = 7
EXTRA_DAY = date(2026, 8, 28)
GROWTH_GOAL = 1.3  # the one-day run at the longest history / at the shortest
ONE_DAY_GOAL_SECONDS = 12
NOOP_GOAL_SECONDS = 8
SAMPLE_GOAL_SECONDS = 15


def case(
    settings: Settings,
    progress: Progress = quiet,
    histories: tuple[int, ...] = HISTORIES,
    orders_per_day: int = ORDERS_PER_DAY,
    sample: Path | None = None,
) -> Result:
    """`histories`, `orders_per_day` and `sample` (default: the committed sample) make a small run possible."""
    from ecomdwh import landing
    from glue_local.runtime.spark import get_spark

    histories = tuple(sorted(histories))
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    case_started = time.monotonic()
    progress("glue-history: starting Spark")
    started = time.monotonic()
    spark = get_spark(settings, app_name="ecomdwh-bench")
    spark_start = time.monotonic() - started

    lengths: dict[str, dict] = {}
    noop: dict = {}
    for days in histories:
        lengths[str(days)], found = _history(settings, spark, progress, days, orders_per_day, days == histories[-1])
        noop = found or noop

    sample = sample or settings.sample_dir
    bench = settings.with_overrides(env="benchghsample")
    with scratch_lake(bench):
        files = landing.plan(sample)
        progress(f"glue-history: landing the sample ({len(files)} files), then gluing it from empty")
        landing.land(bench, files)
        sample_run = _glue(spark, bench)

    short, long = lengths[str(histories[0])], lengths[str(histories[-1])]
    growth = long["one_day_seconds"] / short["one_day_seconds"]
    cli_growth = long["cli_one_day_seconds"] / short["cli_one_day_seconds"]
    short_requests, long_requests = short["one_day_s3_requests"], long["one_day_s3_requests"]
    request_growth = long_requests / short_requests if short_requests and long_requests is not None else None
    slowest = max(v["one_day_seconds"] for v in lengths.values())
    goals = {
        f"one_day_{histories[-1]}d_le_{GROWTH_GOAL}x_{histories[0]}d": growth <= GROWTH_GOAL,
        f"one_day_le_{ONE_DAY_GOAL_SECONDS}s": slowest <= ONE_DAY_GOAL_SECONDS,
        f"cli_one_day_{histories[-1]}d_le_{GROWTH_GOAL}x_{histories[0]}d": cli_growth <= GROWTH_GOAL,
        f"noop_le_{NOOP_GOAL_SECONDS}s": noop["seconds"] <= NOOP_GOAL_SECONDS,
        # None where the emulator keeps no request log (moto): not counted, so not a goal missed.
        f"s3_requests_{histories[-1]}d_le_{GROWTH_GOAL}x_{histories[0]}d": request_growth is None
        or request_growth <= GROWTH_GOAL,
        f"sample_le_{SAMPLE_GOAL_SECONDS}s": sample_run["seconds"] <= SAMPLE_GOAL_SECONDS,
    }
    per_length = ", ".join(f"{d} days {v['one_day_seconds']:.1f} s" for d, v in lengths.items())
    per_length_cli = ", ".join(f"{d} days {v['cli_one_day_seconds']:.1f} s" for d, v in lengths.items())
    per_length_requests = ", ".join(f"{d} days {v['one_day_s3_requests']}" for d, v in lengths.items())
    return {
        "case": "glue-history",
        "goal": f"one landing day of {orders_per_day} orders through the six jobs: at {histories[-1]} days of history "
        f"<= {GROWTH_GOAL}x the run at {histories[0]} days, and <= {ONE_DAY_GOAL_SECONDS} s; a rerun with nothing "
        f"new <= {NOOP_GOAL_SECONDS} s; the committed sample glued from empty <= {SAMPLE_GOAL_SECONDS} s; the next "
        f"day through `ecomdwh glue run` (own Spark) at {histories[-1]} days <= {GROWTH_GOAL}x at {histories[0]}; "
        f"the one-day run's S3 requests at {histories[-1]} days <= {GROWTH_GOAL}x at {histories[0]}",
        "measured": f"one-day run on {per_length} ({growth:.2f}x); through the command line {per_length_cli} "
        f"({cli_growth:.2f}x); S3 requests of the one-day run {per_length_requests}; no-op rerun "
        f"{noop['seconds']:.1f} s; sample {sample_run['seconds']:.1f} s (Spark start {spark_start:.1f} s apart)",
        "goal_met": all(goals.values()),
        "metrics": {
            "orders_per_day": orders_per_day,
            "spark_start_seconds": round(spark_start, 1),
            "histories": lengths,
            "one_day_growth": round(growth, 3),
            "cli_one_day_growth": round(cli_growth, 3),
            "s3_requests_growth": round(request_growth, 3) if request_growth is not None else None,
            "noop": noop,
            "sample": sample_run,
            "case_seconds": round(time.monotonic() - case_started, 1),
            "goals": goals,
        },
    }


def _history(settings: Settings, spark, progress: Progress, days: int, orders_per_day: int, rerun: bool):
    """`days` of history glued in one run, then one more day glued, then the next by the command line: the
    figures, and a no-op rerun's if asked."""
    from ecomdwh import generator, landing

    bench = settings.with_overrides(env=f"benchgh{days}")
    extra, next_day = EXTRA_DAY.isoformat(), (EXTRA_DAY + timedelta(days=1)).isoformat()
    with scratch_lake(bench), tempfile.TemporaryDirectory(prefix=f"bench-gh{days}-", dir=settings.cache_dir) as tmp:
        progress(f"glue-history: {days} days: generating {days} + 2 days of {orders_per_day} orders")
        start = EXTRA_DAY - timedelta(days=days)
        bronze = Path(tmp, "bronze")
        generator.generate(bronze, days + 2, orders_per_day, seed=SEED, bad_rate=BAD_RATE, start_date=start)
        files = landing.plan(bronze)
        history = [f for f in files if f.ingest_date not in (extra, next_day)]
        progress(f"glue-history: {days} days: landing {len(history)} files, then gluing them in one run")
        landing.land(bench, history)
        first = _glue(spark, bench)
        progress(f"glue-history: {days} days: history glued in {first['seconds']:.1f} s; landing and gluing {extra}")
        landing.land(bench, [f for f in files if f.ingest_date == extra])
        one_day = _glue(spark, bench)
        progress(f"glue-history: {days} days: one-day run {one_day['seconds']:.1f} s")
        noop = {}
        if rerun:
            progress(f"glue-history: {days} days: rerun with nothing new")
            noop = _glue(spark, bench)
            progress(f"glue-history: {days} days: no-op rerun {noop['seconds']:.1f} s")
        landing.land(bench, [f for f in files if f.ingest_date == next_day])
        before = s3_request_total(bench)
        cli_one_day = cli_glue_run(bench, Path(tmp, "state"))
        cli_requests = _since(before, s3_request_total(bench))
        progress(f"glue-history: {days} days: {next_day} by `ecomdwh glue run` (own Spark) {cli_one_day:.1f} s")
    return {
        "history_glue_seconds": first["seconds"],
        "history_rows_read": first["rows_read"],
        "one_day_seconds": one_day["seconds"],
        "one_day_rows_read": one_day["rows_read"],
        "one_day_entities": one_day["entities"],
        "one_day_s3_requests": one_day["s3_requests"],
        "cli_one_day_seconds": cli_one_day,
        "cli_one_day_s3_requests": cli_requests,
    }, noop


def _glue(spark, settings: Settings) -> dict:
    """The bronze_to_silver jobs of every entity in one call, bookmarks enabled, as `ecomdwh glue run` runs
    them: seconds, and rows and files read per entity."""
    from glue_local.runtime import runner

    requests = s3_request_total(settings)
    started = time.monotonic()
    manifests = runner.run_bronze_to_silver(spark, settings, None, None, "job-bookmark-enable")
    seconds = time.monotonic() - started
    requests = _since(requests, s3_request_total(settings))
    entities = {m["entity"]: {"rows_read": m["rows_read"], "files_read": len(m["files_read"])} for m in manifests}
    return {
        "seconds": round(seconds, 2),
        "rows_read": sum(e["rows_read"] for e in entities.values()),
        "files_read": sum(e["files_read"] for e in entities.values()),
        "s3_requests": requests,
        "entities": entities,
    }


def _since(before: int | None, after: int | None) -> int | None:
    return after - before if before is not None and after is not None else None
