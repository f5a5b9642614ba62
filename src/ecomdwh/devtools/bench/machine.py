"""How fast the machine was while a benchmark ran: results of different days compare only through it.

Machines of one kind differ, and one machine differs by the hour (other tenants, a loaded host), on the
same code (docs/performance.md). A benchmark's results therefore carry a fixed reference workload timed
before and after its cases, the load average it started under, and the share of CPU time the cases had
(busy, idle, and stolen by the host, where the kernel reports it).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

REFERENCE_MIB = 256  # of hashing on one core: short beside any case, long enough to time
_PROC_STAT = Path("/proc/stat")
# /proc/stat's first line: cpu user nice system idle iowait irq softirq steal ...
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def reference_seconds(mib: int | None = None, rounds: int = 3) -> float:
    """Seconds for one core to hash `mib` MiB (SHA-256; REFERENCE_MIB by default), the best of `rounds`: a fixed
    work to compare days by."""
    mib = mib or REFERENCE_MIB
    block = bytes(1 << 20)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        digest = hashlib.sha256()
        for _ in range(mib):
            digest.update(block)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def cpu_ticks(stat: Path = _PROC_STAT) -> dict[str, int] | None:
    """The machine's CPU time so far by kind, in kernel ticks; None where the kernel does not report it."""
    try:
        first = stat.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not first or first[0] != "cpu":
        return None
    values = [int(v) for v in first[1 : 1 + len(_FIELDS)]]
    return dict(zip(_FIELDS, values + [0] * (len(_FIELDS) - len(values)), strict=True))


def cpu_shares(before: dict[str, int] | None, after: dict[str, int] | None) -> dict[str, float] | None:
    """The shares of CPU time between two readings that were busy, idle (waiting on I/O included) and stolen."""
    if before is None or after is None:
        return None
    spent = {k: after[k] - before[k] for k in _FIELDS}
    total = sum(spent.values())
    if total <= 0:
        return None
    idle = spent["idle"] + spent["iowait"]
    return {
        "busy": round((total - idle - spent["steal"]) / total, 3),
        "idle": round(idle / total, 3),
        "steal": round(spent["steal"] / total, 3),
    }


def reference_key() -> str:
    return f"reference_sha256_{REFERENCE_MIB}mib_s"


class Watch:
    """The machine's state around a benchmark: `start()` before its cases, `report()` after."""

    def start(self) -> None:
        self.load_average = [round(x, 2) for x in os.getloadavg()]
        self.reference_before = reference_seconds()
        self.ticks = cpu_ticks()

    def report(self) -> dict[str, object]:
        shares = cpu_shares(self.ticks, cpu_ticks())
        return {
            "load_average_at_start": self.load_average,
            reference_key(): {"before": self.reference_before, "after": reference_seconds()},
            "cpu_during_cases": shares,
        }


def describe(machine: dict, what: str = "the cases") -> str:
    """One line on a results file's `machine` (around `what` ran), for the end of `ecomdwh bench` or the suite."""
    reference = machine.get(reference_key()) or {}
    line = (
        f"machine: the reference work took {reference.get('before')} s before {what} and "
        f"{reference.get('after')} s after (compare results of other days by it); load average at start "
        f"{(machine.get('load_average_at_start') or ['?'])[0]}"
    )
    shares = machine.get("cpu_during_cases")
    if shares:
        line += f"; CPU during {what} {shares['busy']:.0%} busy, {shares['steal']:.0%} taken by the host"
    return line
