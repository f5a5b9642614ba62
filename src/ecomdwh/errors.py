"""Errors a user can act on: the CLI prints their message as one sentence and exits non-zero.

`explain` turns the ordinary faults of a laptop (the S3 emulator gone, a full disk, a damaged
warehouse file) into such a sentence, wherever in a command they surface.
"""

from __future__ import annotations

import errno
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecomdwh.settings import Settings


class UserError(Exception):
    """A failure with a message that tells the user what to do."""

    @property
    def _render_traceback_(self):
        """IPython shows what this returns in place of a traceback: a notebook cell that fails with a UserError
        shows its one sentence, with or without `%load_ext ecomdwh`. ECOMDWH_DEBUG=1 keeps the traceback."""
        from ecomdwh.settings import get_settings

        if get_settings().debug:
            raise AttributeError("_render_traceback_")  # hasattr() is False: IPython formats the traceback
        return lambda: [str(self)]


def explain(exc: BaseException, settings: Settings) -> UserError | None:
    """A UserError saying what went wrong and what to do, for a fault we recognise; else None."""
    for cause in _chain(exc):
        found = s3_unreachable(cause, settings) or disk_full(cause, settings) or damaged_duckdb(cause, settings)
        found = found or missing_local_extra(cause) or spark_driver_gone(cause, settings)
        if found is not None:
            return found
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


# --- Spark's driver ------------------------------------------------------------------------------------------------

# py4j's words for a call whose JVM answered nothing (an error with a Java trace or exception is a real answer).
_PY4J_NO_ANSWER = re.compile(r"An error occurred while calling \S+\Z")


def spark_driver_gone(exc: BaseException, settings: Settings) -> UserError | None:
    """The JVM at the other end of py4j's socket is gone (killed, out of memory, crashed): py4j's error while this
    process's driver JVM has exited, its network error, or its error for a call that got no answer."""
    kind = type(exc)
    if not kind.__module__.startswith("py4j") or kind.__name__ == "Py4JJavaError":
        return None
    no_answer = kind.__name__ == "Py4JNetworkError" or _PY4J_NO_ANSWER.match(str(exc))
    if not (no_answer or _driver_exited()):
        return None
    return UserError(
        "Spark's driver (its JVM) stopped during the command (killed, out of memory or crashed), so the Glue jobs "
        f"it did not finish commit nothing; see {settings.spark_log_path} and rerun the command, which reads only "
        "what is left."
    )


def _driver_exited() -> bool:
    """True when this process started a Spark driver JVM and it has exited (py4j then says a class "does not
    exist in the JVM", as it would of a class missing from the classpath)."""
    context = sys.modules.get("pyspark.context")
    proc = getattr(getattr(getattr(context, "SparkContext", None), "_gateway", None), "proc", None)
    return proc is not None and proc.poll() is not None


# --- the `local` extra ----------------------------------------------------------------------------------------------

# Top-level modules of pyproject's `local` extra, which the pipeline image leaves out.
LOCAL_EXTRA_MODULES = frozenset({"pyspark", "awsglue", "moto", "jupyterlab"})


def missing_local_extra(exc: BaseException) -> UserError | None:
    top = (getattr(exc, "name", None) or "").split(".")[0] if isinstance(exc, ModuleNotFoundError) else ""
    if top not in LOCAL_EXTRA_MODULES:
        return None
    return UserError(
        f"{top} is not installed here: it belongs to the workbench's `local` extra, which the pipeline image "
        "leaves out; run this command on the workbench (`make setup` installs '.[dev,local]')."
    )


# --- S3 ------------------------------------------------------------------------------------------------------------

# What the JVM's S3 client (Spark's s3a) says when the endpoint is gone.
_JAVA_UNREACHABLE = ("Connection refused", "Unable to execute HTTP request", "connect timed out", "Connection reset")


def s3_unreachable(exc: BaseException, settings: Settings) -> UserError | None:
    from botocore import exceptions as boto

    if isinstance(exc, boto.ConnectionError | boto.HTTPClientError):
        why = type(exc).__name__
    elif settings.uses_emulator and _java_unreachable(str(exc), settings):
        why = "connection refused"
    else:
        return None
    if not settings.uses_emulator:
        return UserError(f"S3 does not answer ({why}: {_first_line(exc)}); check the network and retry.")
    return UserError(
        f"The S3 emulator at {settings.endpoint_url} does not answer ({why}); start it with "
        "`ecomdwh emulator start` and retry (a restarted emulator starts empty: `ecomdwh run` lands the data again)."
    )


def _java_unreachable(text: str, settings: Settings) -> bool:
    where = f"{settings.emulator_host}:{settings.emulator_port}"
    return where in text and any(marker in text for marker in _JAVA_UNREACHABLE)


# --- disk ----------------------------------------------------------------------------------------------------------

_QUOTED_PATH = re.compile(r"""["'](/[^"']+)["']""")


def disk_full(exc: BaseException, settings: Settings) -> UserError | None:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        path = exc.filename or exc.filename2
    elif "No space left on device" in str(exc):
        match = _QUOTED_PATH.search(str(exc))
        path = match.group(1) if match else None
    else:
        return None
    if path:
        return UserError(
            f"The disk is full (no space left on device) writing {path}; free space on the disk holding it and retry."
        )
    folder, free = _least_free(settings)
    return UserError(
        f"The disk is full (no space left on device); {folder} has the least free space ({free // 2**20} MiB): "
        "free space there and retry."
    )


def _least_free(settings: Settings) -> tuple[Path, int]:
    candidates = [settings.warehouse_path.parent, settings.state_dir, settings.reports_dir, Path(tempfile.gettempdir())]
    measured = []
    for folder in candidates:
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            measured.append((shutil.disk_usage(probe).free, str(folder)))
        except OSError:
            continue
    free, folder = min(measured) if measured else (0, str(settings.root))
    return Path(folder), free


# --- the local warehouse -------------------------------------------------------------------------------------------

_DAMAGED = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _is_duckdb_error(exc: BaseException) -> bool:
    return type(exc).__module__.lstrip("_").startswith("duckdb")


def damaged_duckdb(exc: BaseException, settings: Settings) -> UserError | None:
    """The sentence for a warehouse file that DuckDB cannot read as a database."""
    text = str(exc)
    if not _is_duckdb_error(exc) or not any(marker in text for marker in _DAMAGED):
        return None
    match = _QUOTED_PATH.search(text)
    path = match.group(1) if match else str(settings.warehouse_path)
    return UserError(
        f"The local warehouse {path} is not a valid DuckDB database (damaged or truncated: {_first_line(exc)}); "
        f"move it away (`mv {shlex.quote(path)} {shlex.quote(path + '.damaged')}`) and rebuild it with `ecomdwh run`."
    )


def duckdb_open_error(exc: BaseException, settings: Settings, path: Path) -> UserError:
    """The sentence for a DuckDB file that would not open: damaged, locked, or something else."""
    damaged = damaged_duckdb(exc, settings)
    if damaged is not None:
        return damaged
    full = disk_full(exc, settings)
    if full is not None:
        return full
    text = str(exc)
    holder = _LOCK_HOLDER.search(text)
    if holder is not None:
        program = Path(holder["program"]).name
        return UserError(
            f"The local warehouse {path} is locked by another process (pid {holder['pid']}, {program}); close it "
            "(e.g. a notebook's kernel) or wait for it to finish, and retry."
        )
    if "Could not set lock" in text:
        return UserError(
            f"The local warehouse {path} is locked by another process; close it (e.g. a notebook's kernel) or wait "
            "for it to finish, and retry."
        )
    return UserError(f"Could not open the local warehouse {path} ({_first_line(exc)}).")
