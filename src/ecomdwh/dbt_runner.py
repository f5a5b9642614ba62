"""Running dbt on the project in dbt/ with its own profiles, for the configured target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings


def dbt_command(settings: Settings, args: list[str], target: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The dbt argv and environment: the project's dbt/, its profiles.yml, the settings' target."""
    executable = Path(sys.executable).with_name("dbt")
    command = [str(executable), *args]
    if args and not args[0].startswith("-") and "--project-dir" not in args:
        command += ["--project-dir", str(settings.dbt_dir), "--profiles-dir", str(settings.dbt_dir)]
    env = {
        **os.environ,
        **settings.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_LOG_PATH": str(settings.dbt_dir / "logs"),
    }
    if target:
        env["ECOMDWH_TARGET"] = target
    return command, env


def run_dbt(settings: Settings, args: list[str], target: str | None = None, capture: bool = False):
    command, env = dbt_command(settings, args, target)
    if (target or settings.target) == "local":
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, env=env, cwd=settings.dbt_dir, capture_output=capture, text=True)


def run_results(settings: Settings) -> list[dict]:
    path = settings.dbt_dir / "target" / "run_results.json"
    return json.loads(path.read_text())["results"] if path.exists() else []


def summarize(results: list[dict]) -> Counter[str]:
    return Counter(r["status"] for r in results)


def build(settings: Settings, target: str | None = None, extra: list[str] | None = None) -> Counter[str]:
    """`dbt build` (seeds, models, snapshots, tests); raises naming what failed."""
    result = run_dbt(settings, ["build", *(extra or [])], target, capture=True)
    results = run_results(settings)
    failed = [r["unique_id"].split(".", 2)[-1] for r in results if r["status"] in ("error", "fail")]
    if result.returncode != 0:
        what = ", ".join(failed[:5]) or (result.stdout.strip().splitlines() or ["dbt failed"])[-1]
        raise UserError(f"dbt build failed on the {target or settings.target} target: {what}; see dbt/logs/dbt.log.")
    return summarize(results)
