"""The larger `ecomdwh bench` cases, one module each; `ecomdwh.devtools.benchmark` lists every case and runs them.

A case is `case(settings, progress) -> Result`: what it measured beside its goal. `progress` takes one line
per phase, so a long benchmark is never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
