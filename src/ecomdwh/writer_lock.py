"""One writer at a time per project and env.

Commands that change the lake or the warehouse (land, glue run, load, dbt build, run, ...)
take an exclusive, non-blocking `flock` on `<state_dir>/locks/<project>-<env>.lock`; a second
writer refuses at once, naming the holder from the text the holder wrote into the file. The
kernel releases a flock when its process dies, so a lock left by a killed writer is simply
taken over (and its stale text overwritten). Readers (reports, notebooks) never take it.

    with writer_lock.hold(settings, "ecomdwh load"):
        ...

The lock is re-entrant within one process: `ecomdwh run` calls the other writers' code
in-process and must not refuse itself.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings


@dataclass
class _Held:
    fd: int
    depth: int


_held: dict[Path, _Held] = {}
_mutex = threading.Lock()


def lock_path(settings: Settings) -> Path:
    return settings.state_dir / "locks" / f"{settings.project}-{settings.env}.lock"


def _holder_text(command: str) -> str:
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    argv = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else ""
    return f"pid: {os.getpid()}\ncommand: {command}\nargv: {argv}\nstarted: {started}\n"


def read_holder(path: Path) -> dict[str, str]:
    """The holder's pid, command, argv and start time as the holder wrote them ({} when unreadable)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    fields = (line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {key: value for key, value in fields}


def _since(started: str) -> str:
    try:
        when = datetime.fromisoformat(started).astimezone()
    except ValueError:
        return "an unknown time"
    today = datetime.now().astimezone().date()
    return when.strftime("%H:%M:%S") if when.date() == today else when.strftime("%Y-%m-%d %H:%M:%S")


def _refusal(settings: Settings, holder: dict[str, str], path: Path) -> UserError:
    who = (
        f"pid {holder['pid']}, `{holder.get('command', 'ecomdwh')}`, since {_since(holder.get('started', ''))}"
        if holder.get("pid")
        else f"its pid not written to {path}"
    )
    return UserError(
        f"Another ecomdwh writer ({who}) holds the lock for {settings.project}/{settings.env}; "
        "wait for it to finish or stop it."
    )


@contextmanager
def hold(settings: Settings, command: str) -> Iterator[Path]:
    """Hold the project/env writer lock for the block, or raise UserError naming who holds it."""
    path = lock_path(settings).resolve()
    with _mutex:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
        else:
            _held[path] = _acquire(settings, path, command)
    try:
        yield path
    finally:
        with _mutex:
            held = _held[path]
            held.depth -= 1
            if held.depth == 0:
                del _held[path]
                _release(held.fd)


def _acquire(settings: Settings, path: Path, command: str) -> _Held:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes (O_CLOEXEC)
    try:
        _lock_or_refuse(settings, fd, path)
    except BaseException:
        os.close(fd)
        raise
    try:
        # Whatever a killed holder left is overwritten, never appended to.
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text(command).encode(), 0)
    except BaseException:
        _release(fd)
        raise
    return _Held(fd, 1)


def _lock_or_refuse(settings: Settings, fd: int, path: Path) -> None:
    # A holder writes its text just after locking and empties it just before unlocking: while the
    # text is empty, look again for a moment rather than refuse naming nobody.
    for _ in range(20):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = read_holder(path)
            if holder.get("pid"):
                raise _refusal(settings, holder, path) from None
        time.sleep(0.05)
    raise _refusal(settings, read_holder(path), path)


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)  # a released lock names nobody
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def is_held_here(settings: Settings) -> bool:
    """True when this process holds the lock (e.g. inside `ecomdwh run`)."""
    with _mutex:
        return lock_path(settings).resolve() in _held
