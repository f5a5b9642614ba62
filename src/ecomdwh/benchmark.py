"""`ecomdwh bench`: performance goals, measured on this machine and written to a file.

Each case returns what it measured beside its goal; timed assertions stay out
of the test suite, where machine load would make them flaky.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

Result = dict[str, object]


def _generate(settings: Settings) -> Result:
    from ecomdwh import sample_data

    with tempfile.TemporaryDirectory(prefix="bench-generate-", dir=settings.cache_dir) as tmp:
        metrics = sample_data.bench_generate(Path(tmp))
    seconds = float(metrics["seconds"])
    return {
        "case": "generate",
        "goal": "1M order items with their orders, payments and events in <= 60 s",
        "measured": f"{metrics['order_items']:,} order items in {seconds:.1f} s",
        "goal_met": seconds <= 60 and int(metrics["order_items"]) >= 1_000_000,
        "metrics": metrics,
    }


CASES: dict[str, Callable[[Settings], Result]] = {"generate": _generate}


def run(settings: Settings, cases: list[str] | None, out_dir: Path | None) -> tuple[list[Result], Path]:
    unknown = sorted(set(cases or []) - set(CASES))
    if unknown:
        raise UserError(f"Unknown benchmark case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}.")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    results = [CASES[name](settings) for name in (cases or list(CASES))]
    out_dir = out_dir or settings.root / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "measured_at": stamp,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "node": platform.machine()},
        "results": results,
    }
    path = out_dir / f"bench-{stamp}.json"
    text = json.dumps(document, indent=2, default=str) + "\n"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return results, path
