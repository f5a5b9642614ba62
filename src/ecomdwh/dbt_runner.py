"""Running dbt on the project in dbt/ with its own profiles, for the configured target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings


def dbt_command(settings: Settings, args: list[str], target: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The dbt argv and environment: the project's dbt/, its profiles.yml, the settings' target."""
    command = [sys.executable, "-m", "ecomdwh.dbt_main", *args]
    if args and not args[0].startswith("-") and "--project-dir" not in args:
        command += ["--project-dir", str(settings.dbt_dir), "--profiles-dir", str(settings.dbt_dir)]
    return command, {**os.environ, **dbt_variables(settings, target)}


def dbt_variables(settings: Settings, target: str | None = None) -> dict[str, str]:
    """The environment variables dbt needs besides the caller's: the profile's, no usage statistics."""
    env = {
        **settings.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_LOG_PATH": str(settings.dbt_log_path),
    }
    if settings.dbt_target_root:
        env["DBT_TARGET_PATH"] = str(settings.dbt_target_root)
    if target:
        env["ECOMDWH_TARGET"] = target
    return env


def run_dbt(settings: Settings, args: list[str], target: str | None = None, capture: bool = False):
    command, env = dbt_command(settings, args, target)
    if (target or settings.target) == "local":
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if capture or not sys.stdout.isatty():
        # Read by a program or piped to a file: no colour codes (the caller's own DBT_USE_COLORS still wins).
        env.setdefault("DBT_USE_COLORS", "false")
    return subprocess.run(command, env=env, cwd=settings.dbt_dir, capture_output=capture, text=True)


def run_results(settings: Settings) -> list[dict]:
    path = settings.dbt_target_path / "run_results.json"
    return json.loads(path.read_text())["results"] if path.exists() else []


def summarize(results: list[dict]) -> Counter[str]:
    return Counter(r["status"] for r in results)


# What dbt's result statuses mean per resource type, in words; a status not listed is said as dbt says it.
_RESOURCE_WORDS = {
    "seed": ("seed", "seeds"),
    "model": ("model", "models"),
    "snapshot": ("snapshot", "snapshots"),
    "test": ("data test", "data tests"),
    "unit_test": ("unit test", "unit tests"),
}
_STATUS_WORDS = {
    "seed": {"success": "loaded"},
    "model": {"success": "built"},
    "snapshot": {"success": "taken"},
    "test": {"pass": "passed", "fail": "failed", "warn": "warned"},
    "unit_test": {"pass": "passed", "fail": "failed"},
}
_COMMON_STATUS_WORDS = {
    "error": "errored",
    "skipped": "skipped",
    "no-op": "unchanged (no-op)",
    "runtime error": "errored",
}
_ORDER = ["test", "unit_test", "model", "snapshot", "seed"]


def describe(results: list[dict]) -> str:
    """A build's run results in words, e.g. "58 data tests passed, 18 models built, 2 snapshots taken,
    4 seeds loaded"; failures and skips are counted apart ("1 data test failed")."""
    counts = Counter((r["unique_id"].split(".", 1)[0], r["status"]) for r in results)
    parts = []
    order = {kind: i for i, kind in enumerate(_ORDER)}
    for (kind, status), n in sorted(counts.items(), key=lambda item: (order.get(item[0][0], 99), item[0])):
        singular, plural = _RESOURCE_WORDS.get(kind, (kind.replace("_", " "), kind.replace("_", " ") + "s"))
        word = _STATUS_WORDS.get(kind, {}).get(status) or _COMMON_STATUS_WORDS.get(status, status)
        parts.append(f"{n} {singular if n == 1 else plural} {word}")
    return ", ".join(parts) or "nothing to build"


def _finished_node(event: dict) -> str | None:
    """The node a dbt JSON log event says finished (a result or a skip line), None for any other event."""
    data = event.get("data") or {}
    if event.get("info", {}).get("name") == "LogStartLine" or "total" not in data:
        return None
    node = data.get("node_info") or {}
    return node.get("unique_id") or f"{data.get('index')}"


# A pipeline build leaves the unit tests out: they check the models' logic on fixed fixtures,
# which only a change of code can break, so they run in development and CI (`make test`).
SKIP_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


def build(
    settings: Settings,
    target: str | None = None,
    extra: list[str] | None = None,
    unit_tests: bool = False,
    on_node: Callable[[int], None] | None = None,
) -> Counter[str]:
    """`dbt build` (seeds, models, snapshots, data tests; unit tests on request); raises naming what failed.

    dbt's output never reaches the terminal: it logs JSON events to a pipe, read here to call `on_node(total)`
    as each node finishes, and its own log file (dbt.log in DBT_LOG_PATH) keeps the full text.
    """
    args = ["build", *(extra or []), *([] if unit_tests else SKIP_UNIT_TESTS)]
    command, env = dbt_command(settings, args, target)
    env |= {"DBT_LOG_FORMAT": "json", "DBT_USE_COLORS": "false"}
    if (target or settings.target) == "local":
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    finished: set[str] = set()
    errors: list[str] = []
    with subprocess.Popen(
        command, env=env, cwd=settings.dbt_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            try:
                event = json.loads(line)
            except ValueError:  # not an event (a Python warning): dbt.log has the story
                continue
            if event.get("info", {}).get("level") == "error" and event["info"].get("msg"):
                errors.append(event["info"]["msg"])
            node = _finished_node(event)
            if node is not None and node not in finished:
                finished.add(node)
                if on_node is not None:
                    on_node(int(event["data"]["total"]))
    results = run_results(settings)
    failed = [r["unique_id"].split(".", 2)[-1] for r in results if r["status"] in ("error", "fail")]
    if child.returncode != 0:
        what = ", ".join(failed[:5]) or (errors or ["dbt failed"])[-1].strip().splitlines()[-1]
        log = settings.dbt_log_path / "dbt.log"
        raise UserError(f"dbt build failed on the {target or settings.target} target: {what}; see {log}.")
    return summarize(results)


def duckdb_settings(settings: Settings) -> dict[str, str]:
    """The DuckDB settings that the profile's `local` output gives every dbt connection."""
    import yaml

    profiles = yaml.safe_load((settings.dbt_dir / "profiles.yml").read_text())
    return profiles["ecomdwh"]["outputs"]["local"].get("settings") or {}


def replay_sql(settings: Settings, before: Path, results: list[dict], full_refresh: bool) -> dict[str, float]:
    """Seconds to run a DuckDB build's compiled SQL straight on DuckDB without dbt, by resource type.

    `settings` name the built warehouse, `before` a copy of it as it was before the build, on
    which the SQL runs; `results` are the build's run results (completion order is a valid
    dependency order). The connection has the profile's DuckDB settings, as dbt's have. Each seed
    is copied from the built warehouse; each model is made the way its materialization makes it
    (an incremental run merges its batch, or deletes its keys and inserts); each data test counts
    its failing rows; a last checkpoint makes the models durable, as dbt's commits do, and counts
    with them. Unit tests, constant in size, are not replayed.
    """
    import time
    from collections import defaultdict

    import duckdb

    nodes = json.loads((settings.dbt_target_path / "manifest.json").read_text())["nodes"]
    # The compiled SQL names the build's database (its file's stem): attach the copy under that name.
    database = next(n["database"] for n in nodes.values() if n["resource_type"] == "model")
    con = duckdb.connect()
    for name, value in duckdb_settings(settings).items():
        con.execute(f"set {name} = '{value}'")
    con.execute(f"attach '{before}' as \"{database}\"")
    con.execute(f"attach '{settings.warehouse_path}' as built (read_only)")
    con.execute(f'use "{database}"')
    run = [(nodes[r["unique_id"]], r["compiled_code"]) for r in results if r["unique_id"] in nodes]
    for node, _ in run:
        con.execute(f'create schema if not exists "{node["schema"]}"')
    seconds: dict[str, float] = defaultdict(float)
    for node, sql in run:
        started = time.monotonic()
        _replay_node(con, node, sql, full_refresh)
        seconds[node["resource_type"]] += time.monotonic() - started
    started = time.monotonic()
    con.execute("checkpoint")
    seconds["model"] += time.monotonic() - started
    con.close()
    return dict(seconds)


def _replay_node(con, node: dict, sql: str, full_refresh: bool) -> None:
    relation = f'"{node["schema"]}"."{node["alias"]}"'
    kind = node["config"].get("materialized")
    if node["resource_type"] == "seed":
        con.execute(f"create or replace table {relation} as select * from built.{relation}")
    elif node["resource_type"] == "test":
        con.execute(f"select count(*) from ({sql}) as failures").fetchall()
    elif node["resource_type"] != "model":
        return
    elif kind == "view":
        con.execute(f"create or replace view {relation} as {sql}")
    elif kind == "incremental" and not full_refresh:
        key = node["config"]["unique_key"]
        con.execute(f"create or replace temp table replay_batch as {sql}")
        if node["config"]["incremental_strategy"] == "merge":
            con.execute(
                f"merge into {relation} as target using replay_batch as batch on batch.{key} = target.{key} "
                f"when matched then {_merge_update(con, node)} when not matched then insert by name"
            )
        else:
            con.execute(f"delete from {relation} where {key} in (select {key} from replay_batch)")
            con.execute(f"insert into {relation} by name select * from replay_batch")
    else:
        con.execute(f"create or replace table {relation} as {sql}")


def _merge_update(con, node: dict) -> str:
    """What a merge updates in a matched row, as dbt-duckdb does: every column, or the configured ones."""
    include = node["config"].get("merge_update_columns") or []
    exclude = set(node["config"].get("merge_exclude_columns") or [])
    if not include and not exclude:
        return "update by name"
    columns = include or [c for (c,) in con.execute("select column_name from (describe replay_batch)").fetchall()]
    return "update set " + ", ".join(f'"{c}" = batch."{c}"' for c in columns if c not in exclude)


# dbt commands that change the warehouse; `test` only reads (unless store_failures, which we leave to the user).
DBT_WRITERS = frozenset({"build", "run", "seed", "snapshot", "retry", "clone", "run-operation"})
_DBT_COMMANDS = DBT_WRITERS | {"clean", "compile", "debug", "deps", "docs", "init", "list", "ls", "parse", "show"}
_DBT_COMMANDS |= {"source", "test"}
# dbt's global options that take a value, which is never the subcommand.
_DBT_VALUED = {"--log-level", "--log-level-file", "--log-format", "--log-format-file", "--log-path"}
_DBT_VALUED |= {"--target-path", "--profiles-dir", "--project-dir", "--printer-width", "--profile", "--target"}


def dbt_subcommand(args: list[str]) -> str | None:
    """The dbt subcommand in a pass-through argument list, e.g. `build` in `--no-populate-cache build -s x`."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _DBT_VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in _DBT_COMMANDS else None
    return None
