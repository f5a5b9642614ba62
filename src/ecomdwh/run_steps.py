"""The pipeline's steps by name and the day a run reports on (a leaf: it imports nothing of ours).

pipeline.py runs the steps; run_history.py records them. Both read these, so the record does not import the runner.
"""

from __future__ import annotations

from datetime import UTC, datetime

# The state machine's task states, in order; pipeline.STEPS pairs each with its function.
STEP_NAMES = ["land", "glue", "load", "dbt", "reconcile", "report"]


def today() -> str:
    """Today in UTC, the contract's zone."""
    return datetime.now(UTC).date().isoformat()


def run_date(ctx) -> str:
    """The day a run reports on (ctx: a pipeline.RunContext): the source's own (ctx.run_day), else the last landing
    day (today when none)."""
    if ctx.run_day:
        return ctx.run_day
    return ctx.days[-1] if ctx.days else today()
