"""`ecomdwh bench --case olist`: an export the size of the public Olist one through `ecomdwh run --source olist:DIR`.

The export is generated (`ecomdwh.generator.olist_shaped`): about 99k orders, 112k order items, 104k payments,
99k customers rows and 33k products purchased over 622 days, in Kaggle's files and formats. The case converts
it as `ecomdwh run` does, then runs the pipeline's steps (land, glue, load, dbt, reconcile, report) in an env of
its own (`benchol`: its own buckets, warehouse and reports), on a SparkSession started before the steps and
timed apart. `scale` (0 < scale <= 1) takes that share of the orders and of the days, the daily volume kept,
for a quick try; the goals are set for the full size.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ecomdwh.devtools.bench import Progress, Result, quiet, scratch_lake
from ecomdwh.settings import Settings

SEED = 17
GLUE_GOAL_SECONDS = 60  # the glue step at the full Olist size
RUN_GOAL_SECONDS = 180  # convert, Spark start and every step of `ecomdwh run`


def case(settings: Settings, progress: Progress = quiet, scale: float = 1.0) -> Result:
    from ecomdwh import landing, olist, pipeline
    from ecomdwh.generator.olist_shaped import sizes, write_olist_export
    from glue_local.runtime.spark import get_spark

    orders, days = sizes(scale)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-olist-", dir=settings.cache_dir))
    bench = settings.with_overrides(env="benchol", duckdb_path=work / "warehouse.duckdb", reports_root=work)

    progress(f"olist: generating an export of {orders:,} orders over {days} days in {work}")
    started = time.monotonic()
    export = write_olist_export(work / "export", orders, days, SEED)
    generate_seconds = time.monotonic() - started
    progress("olist: converting the export to bronze")
    started = time.monotonic()
    summary = olist.convert_olist(work / "export", work / "bronze")
    seconds = {"convert": time.monotonic() - started}
    files = len(landing.plan(work / "bronze"))

    with scratch_lake(bench):
        progress("olist: starting Spark")
        started = time.monotonic()
        get_spark(bench, app_name="ecomdwh-bench")
        seconds["spark_start"] = time.monotonic() - started
        ctx = pipeline.RunContext(bench, work / "bronze", log=quiet, run_day=summary["last_purchase_day"])
        outcomes = pipeline.run(
            ctx,
            pipeline.STEPS,
            on_start=lambda name: progress(f"olist: step {name}"),
            on_done=lambda name, o: progress(f"olist: {name} {o.status} in {o.seconds:.1f} s"),
        )
    seconds |= {name: outcome.seconds for name, outcome in outcomes}
    whole = sum(seconds.values())
    failed = [f"{name}: {o.detail}" for name, o in outcomes if o.status != "ok"]
    if failed:
        progress(f"olist: kept {work} (export, bronze, warehouse and reports) to look into the failure")
    else:
        shutil.rmtree(work, ignore_errors=True)

    manifests = {m["entity"]: m for m in ctx.manifests}
    rows = {
        entity: {
            "bronze": bronze,
            "read": manifests.get(entity, {}).get("rows_read"),
            "written": manifests.get(entity, {}).get("rows_written"),
            "quarantined": manifests.get(entity, {}).get("rows_quarantined_total"),
            "deduplicated": manifests.get(entity, {}).get("rows_deduplicated"),
        }
        for entity, bronze in summary["rows"].items()
    }
    glue = seconds.get("glue", 0.0)
    goals = {
        f"glue_step_le_{GLUE_GOAL_SECONDS}s": glue <= GLUE_GOAL_SECONDS,
        f"whole_run_le_{RUN_GOAL_SECONDS}s": whole <= RUN_GOAL_SECONDS,
        "every_step_ok": not failed,
    }
    size = "" if scale == 1 else f"at {scale:g} of the full size, "
    steps = ", ".join(f"{name} {s:.1f}" for name, s in seconds.items() if name != "glue")
    measured = (
        f"{size}{export['orders']:,} orders, {export['order_items']:,} items over {days} days, {files:,} files "
        f"landed: glue step {glue:.1f} s, whole run {whole:.1f} s (other parts in s: {steps})"
    )
    return {
        "case": "olist",
        "goal": f"the public Olist export's size through `ecomdwh run --source olist:DIR`: glue step <= "
        f"{GLUE_GOAL_SECONDS} s, whole run (convert, Spark start, every step) <= {RUN_GOAL_SECONDS} s, every step ok",
        "measured": measured + (f"; failed: {failed[0]}" if failed else ""),
        "goal_met": all(goals.values()),
        "metrics": {
            "scale": scale,
            "export": export,
            "generate_seconds": round(generate_seconds, 2),
            "seconds": {name: round(s, 2) for name, s in seconds.items()},
            "whole_run_seconds": round(whole, 1),
            "files_landed": files,
            "landing_days": len(summary["days"]),
            "rows": rows,
            "steps": {name: outcome.status for name, outcome in outcomes},
            "failed": failed,
            "goals": goals,
        },
    }
