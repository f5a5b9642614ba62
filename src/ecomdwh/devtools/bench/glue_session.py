"""`ecomdwh bench --case glue-session`: `ecomdwh glue run` with its own Spark against one attached to a session.

Two envs hold the same history (14 days at the committed sample's volume). Then, in
pairs, one more landing day is landed in both and glued by `ecomdwh glue run bronze_to_silver` in child
processes, as a user runs it: in one env by a command that starts its own Spark, in the other by a command
attached to a Glue session (glue_local/runtime/session.py); the envs swap roles each pair, and a pair of
runs with nothing new follows. The session is this case's own (its own state folder), started once, warmed
by gluing one env's history as a user's earlier runs would, and stopped after.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from ecomdwh.devtools.bench import Progress, Result, cli_glue_run, quiet, scratch_lake
from ecomdwh.settings import Settings

HISTORY_DAYS = 14
ORDERS_PER_DAY = 850  # the committed sample's daily volume
PAIRS = 3
SEED = 11
FIRST_DAY = date(2026, 5, 4)
ONE_DAY_GOAL_SECONDS = 12
NOOP_GOAL_SECONDS = 8


def case(
    settings: Settings,
    progress: Progress = quiet,
    history_days: int = HISTORY_DAYS,
    orders_per_day: int = ORDERS_PER_DAY,
    pairs: int = PAIRS,
    warm_up: bool = True,
) -> Result:
    """`history_days`, `orders_per_day` and `pairs` make a small run possible; `warm_up=False` glues both
    histories in this process, leaving the session cold for its first pair."""
    from ecomdwh import generator, landing
    from ecomdwh.devtools import glue_session
    from glue_local.runtime import runner
    from glue_local.runtime.spark import get_spark

    case_started = time.monotonic()
    envs = [settings.with_overrides(env="benchgsa"), settings.with_overrides(env="benchgsb")]
    with (
        scratch_lake(envs[0]),
        scratch_lake(envs[1]),
        tempfile.TemporaryDirectory(prefix="bench-gs-", dir=settings.cache_dir) as tmp,
    ):
        days = history_days + pairs
        progress(f"glue-session: generating {days} days of {orders_per_day} orders")
        generator.generate(Path(tmp, "bronze"), days, orders_per_day, seed=SEED, bad_rate=0.02, start_date=FIRST_DAY)
        files = landing.plan(Path(tmp, "bronze"))
        landing_days = sorted({f.ingest_date for f in files})
        history, extra = landing_days[:history_days], landing_days[history_days : history_days + pairs]
        state_dirs = {"alone": Path(tmp, "state-alone"), "attached": Path(tmp, "state-session")}
        session_settings = settings.with_overrides(state_root=state_dirs["attached"])
        progress("glue-session: starting a Glue session")
        glue_session.start(session_settings, idle_minutes=30)
        try:
            # The history: glued in this process in one env, by a command attached to the session in the other,
            # as a user's earlier runs would have (the session's first command pays for its JIT as a cold one).
            progress(f"glue-session: {len(history)} days of history in two envs, one glued attached to the session")
            for env in envs:
                landing.land(env, [f for f in files if f.ingest_date in history])
            spark = get_spark(settings, app_name="ecomdwh-bench")
            runner.run_bronze_to_silver(spark, envs[0])
            if warm_up:
                cli_glue_run(envs[1], state_dirs["attached"], attached=True)
            else:
                runner.run_bronze_to_silver(spark, envs[1])
            one_day = {"alone": [], "attached": []}
            noop = {"alone": [], "attached": []}
            for i, day in enumerate(extra):
                for env in envs:
                    landing.land(env, [f for f in files if f.ingest_date == day])
                roles = ("alone", "attached") if i % 2 == 0 else ("attached", "alone")
                for runs, what in ((one_day, day), (noop, "nothing new")):
                    for role, env in zip(roles, envs, strict=True):
                        seconds = cli_glue_run(env, state_dirs[role], attached=role == "attached")
                        runs[role].append(seconds)
                        progress(f"glue-session: {what}, {role}, {env.env}: {seconds:.1f} s")
        finally:
            glue_session.stop(session_settings)

    medians = {name: {role: statistics.median(v) for role, v in runs.items()} for name, runs in
               (("one_day", one_day), ("noop", noop))}  # fmt: skip
    goals = {
        f"one_day_attached_le_{ONE_DAY_GOAL_SECONDS}s": medians["one_day"]["attached"] <= ONE_DAY_GOAL_SECONDS,
        f"noop_attached_le_{NOOP_GOAL_SECONDS}s": medians["noop"]["attached"] <= NOOP_GOAL_SECONDS,
    }
    return {
        "case": "glue-session",
        "goal": f"`ecomdwh glue run` attached to a Glue session: one new landing day of {orders_per_day} orders on "
        f"{history_days} days of history <= {ONE_DAY_GOAL_SECONDS} s, nothing new <= {NOOP_GOAL_SECONDS} s",
        "measured": "medians of {n} pair(s), own Spark against attached: one day {a:.1f} s against {b:.1f} s, "
        "nothing new {c:.1f} s against {d:.1f} s".format(
            n=pairs,
            a=medians["one_day"]["alone"],
            b=medians["one_day"]["attached"],
            c=medians["noop"]["alone"],
            d=medians["noop"]["attached"],
        ),
        "goal_met": all(goals.values()),
        "metrics": {
            "history_days": history_days,
            "orders_per_day": orders_per_day,
            "one_day_seconds": one_day,
            "noop_seconds": noop,
            "medians": medians,
            "case_seconds": round(time.monotonic() - case_started, 1),
            "goals": goals,
        },
    }
