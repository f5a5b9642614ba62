"""Progress of the long steps (files landed, Glue jobs, dbt nodes, benchmark cases) as a person sees it.

In a terminal, one rich display: a bar per task that counts (done of total, elapsed time), a spinner
for a task that does not; lines logged meanwhile print above it, and the display is gone when the
command ends. Anywhere else (a pipe, a file, a scheduler's log) there is no spinner and no colour:
the logged lines, and a plain "<task>: <done> of <total> <unit>" line at most every `every_s`
seconds of a long task, so a log shows the work moving without a line per item.

    with Reporter(console) as reporter:
        with reporter.task("uploading", total=len(files), unit="file(s)") as task:
            for f in files:
                upload(f)
                task.advance()
            task.log("landed 2026-03-14: 40 new")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

PLAIN_EVERY_S = 30.0  # a plain progress line at most this often per task


def is_live(console: Console) -> bool:
    """Whether the console is a terminal that can redraw a progress display."""
    return console.is_terminal and not console.is_dumb_terminal


class Task:
    """One counted (or open-ended) piece of work on a Reporter; thread-safe, so pool workers advance it."""

    def __init__(self, reporter: Reporter, description: str, total: int | None, unit: str, task_id: TaskID | None):
        self._reporter = reporter
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self._id = task_id
        self._lock = threading.Lock()
        self._last_line = time.monotonic()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            line = self._plain_line_due()
        if self._id is not None and self._reporter.progress is not None:
            self._reporter.progress.update(self._id, completed=self.done)
        if line:
            self._reporter.log(line)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        with self._lock:
            self.total = total if total is not None else self.total
            self.description = description or self.description
        if self._id is not None and self._reporter.progress is not None:
            self._reporter.progress.update(self._id, total=self.total, description=self.description)

    def log(self, line: str | Text) -> None:
        self._reporter.log(line)

    def finish(self) -> None:
        """Take the task off the display."""
        if self._id is not None and self._reporter.progress is not None:
            self._reporter.progress.remove_task(self._id)
        self._id = None

    def _plain_line_due(self) -> str | None:
        """The plain progress line, when there is no live display and the last one is old enough."""
        if self._reporter.live or self._reporter.every_s is None:
            return None
        now = time.monotonic()
        if now - self._last_line < self._reporter.every_s or (self.total is not None and self.done >= self.total):
            return None
        self._last_line = now
        of = f" of {self.total}" if self.total is not None else ""
        return f"{self.description}: {self.done}{of} {self.unit}".rstrip()


class Reporter:
    """Progress on a console: a live rich display in a terminal, plain lines elsewhere. A context manager."""

    def __init__(self, console: Console, every_s: float | None = PLAIN_EVERY_S, live: bool | None = None):
        self.console = console
        self.live = is_live(console) if live is None else live
        self.every_s = every_s
        self.progress: Progress | None = None

    def __enter__(self) -> Reporter:
        if self.live:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def log(self, line: str | Text) -> None:
        """A line that stays: above the live display, or on its own in plain output; never cut or wrapped."""
        self.console.print(line, soft_wrap=True, highlight=False)

    def start(self, description: str, total: int | None = None, unit: str = "") -> Task:
        """Show a task until its `finish()` (`total` None: a spinner and the time elapsed, no bar)."""
        task_id = None
        if self.progress is not None:
            task_id = self.progress.add_task(description, total=total, unit=unit)
        return Task(self, description, total, unit, task_id)

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "") -> Iterator[Task]:
        """A task shown while the block runs."""
        task = self.start(description, total, unit)
        try:
            yield task
        finally:
            task.finish()


class Quiet(Reporter):
    """A reporter that shows nothing (library calls, tests): tasks count, lines go nowhere."""

    def __init__(self) -> None:
        super().__init__(Console(quiet=True), every_s=None, live=False)

    def log(self, line: str | Text) -> None:
        pass
