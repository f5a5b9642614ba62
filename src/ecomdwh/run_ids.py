"""Run ids: what names a run in the ops tables and its report folders (a leaf: it imports nothing of ours)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, without a zone (as the ops tables store it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by start time: UTC time to the millisecond and a short random suffix, e.g.
    20261201T101530123Z-3fa9c1."""
    now = now or utcnow()
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"
