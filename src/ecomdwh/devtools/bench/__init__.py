"""The larger `ecomdwh bench` cases, one module each; `ecomdwh.devtools.benchmark` lists every case and runs them.

A case is `case(settings, progress) -> Result`: what it measured beside its goal. `progress` takes one line
per phase, so a long benchmark is never silent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ecomdwh.settings import Settings

Result = dict[str, object]
Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A progress that prints nothing."""


@contextmanager
def scratch_lake(settings: Settings) -> Iterator[Settings]:
    """The settings' buckets, empty, on a started emulator; removed after, whatever happened."""
    from ecomdwh.devtools import emulator

    emulator.start(settings)
    emulator.delete_buckets(settings)  # a clean slate: nothing from an earlier benchmark
    emulator.create_buckets(settings)
    try:
        yield settings
    finally:
        emulator.delete_buckets(settings)


def s3_request_total(settings: Settings) -> int | None:
    """Every S3 request the emulator has answered so far; None where it keeps no request log."""
    from ecomdwh.devtools import emulator

    counted = emulator.s3_requests(settings)
    return None if counted is None else counted.total()


def cli_glue_run(settings: Settings, state_dir: Path, attached: bool = False) -> float:
    """Seconds of `ecomdwh glue run bronze_to_silver` in a child process; fails unless it attached as asked."""
    env = {**os.environ, **settings.child_env(), "ECOMDWH_STATE_DIR": str(state_dir)}
    started = time.monotonic()
    ran = subprocess.run(
        [sys.executable, "-m", "ecomdwh.cli", "glue", "run", "bronze_to_silver"],
        cwd=settings.root,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = round(time.monotonic() - started, 2)
    said = ran.stdout + ran.stderr
    if ran.returncode != 0 or bool(re.search(r"attached to the Glue session", said)) != attached:
        raise RuntimeError(f"`ecomdwh glue run` in {settings.env} (attached: {attached}) went wrong: {said[-1500:]}")
    return seconds
