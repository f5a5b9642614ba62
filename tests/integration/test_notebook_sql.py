"""`%load_ext ecomdwh` in a live kernel: `%%sql` cells with dbt's ref()/source() on DuckDB and PostgreSQL,
`%dbt` through dbt's Python runner, target switches, and one-line messages for what a user can fix."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg2
import pytest
from jupyter_client.manager import start_new_kernel

from ecomdwh.settings import Settings
from tests.conftest import free_port

pytestmark = [pytest.mark.integration]

# Records every attempt to reach a host that is not this machine (name lookups included).
AUDIT = """
import sys
outbound = []
def _audit(event, args):
    if event == "socket.getaddrinfo" and args[0] not in ("127.0.0.1", "localhost", "::1"):
        outbound.append(args[:2])
    elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in ("127.0.0.1", "::1"):
        outbound.append(args[1])
sys.addaudithook(_audit)
"""


@dataclass
class Output:
    status: str
    streams: str = ""
    results: list[str] = field(default_factory=list)  # text/plain of execute_result and display_data
    errors: list[list[str]] = field(default_factory=list)  # each error's traceback lines


class Kernel:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", env={**os.environ, **env}, cwd=str(cwd))

    def run(self, code: str) -> Output:
        out = Output(status="")

        def hook(message: dict) -> None:
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out.streams += content["text"]
            elif kind in ("execute_result", "display_data"):
                out.results.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                out.errors.append(content["traceback"])

        reply = self.client.execute_interactive(code, timeout=300, output_hook=hook)
        out.status = reply["content"]["status"]
        return out

    def ok(self, code: str) -> str:
        """Run `code`, which must succeed; what it printed."""
        out = self.run(code)
        assert out.status == "ok" and not out.errors, out
        return out.streams.strip()

    def one_line_error(self, code: str) -> str:
        """Run `code`, which must fail with one line and nothing else: that line."""
        out = self.run(code)
        assert out.status == "error" and len(out.errors) == 1, out
        (lines,) = out.errors
        assert len(lines) == 1 and "\n" not in lines[0] and "Traceback" not in lines[0], lines
        assert not out.streams.strip(), out.streams
        return lines[0]

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def kernel_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The settings as the kernel's environment; dbt's target/ and logs/ in tmp_path, not in dbt/."""
    return settings.child_env() | {
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "ECOMDWH_DEBUG": "",
    }


COUNT = """%%sql
select count(*) as n from {{ ref('fact_order_items') }}
"""
ENGINE = """%%sql engine <<
select version() as v
"""


def test_sql_cells_and_dbt_on_both_targets(small_gold: tuple[Settings, dict], tmp_path: Path):
    built, _ = small_gold
    settings = built.with_overrides(duckdb_path=tmp_path / "ecomdwh.duckdb", target="local")
    shutil.copy(built.warehouse_path, settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        items = con.execute("select count(*) from gold.fact_order_items").fetchone()[0]
        orders = con.execute("select count(*) from silver.orders").fetchone()[0]
    pg = psycopg2.connect(**settings.pg)
    with pg, pg.cursor() as cur:
        cur.execute("select count(*) from gold.fact_order_items")
        pg_items = cur.fetchone()[0]
    pg.close()
    assert items > 0 and pg_items > 0

    kernel = Kernel(kernel_env(settings, tmp_path), tmp_path)
    try:
        kernel.ok(AUDIT)
        loaded = kernel.run("%load_ext ecomdwh")
        assert loaded.status == "ok" and not loaded.streams and not loaded.results and not loaded.errors, loaded

        # A %%sql cell gives a DataFrame; `<<` assigns one; ref() and source() name the target's relations.
        kernel.ok(COUNT)
        assert kernel.ok("print(type(_).__name__, int(_['n'][0]))") == f"DataFrame {items}"
        kernel.ok("%%sql silver_orders <<\nselect * from {{ source('shop', 'orders') }}")
        assert kernel.ok("print(type(silver_orders).__name__, len(silver_orders))") == f"DataFrame {orders}"

        # dbt in the kernel: a summary naming the node, no dbt log in the cell; the file is free after.
        build = kernel.run("summary = %dbt build -s dim_date\nsummary")
        assert build.status == "ok" and not build.errors and not build.streams.strip(), build
        assert kernel.ok("print(summary.set_index('node').loc['dim_date', 'status'])") == "success"
        assert kernel.ok("print(sorted(set(summary['status'])))") == "['pass', 'success']"
        duckdb.connect(str(settings.warehouse_path)).close()  # a writer opens it: nothing in the kernel holds it
        preview = kernel.ok("preview = %dbt show -s dim_date --limit 3\nprint(len(preview), 'date_key' in preview)")
        assert preview == "3 True"
        assert (tmp_path / "dbt-target" / "run_results.json").exists() and (tmp_path / "dbt-logs" / "dbt.log").exists()

        # The same cell on PostgreSQL after use_target, and back on DuckDB after %env.
        kernel.ok("use_target('pg')")
        kernel.ok(COUNT)
        assert kernel.ok("print(int(_['n'][0]))") == str(pg_items)
        kernel.ok(ENGINE)
        assert kernel.ok("print(engine['v'][0].split()[0])") == "PostgreSQL"
        kernel.ok("%env ECOMDWH_TARGET=local")
        kernel.ok(ENGINE)
        assert kernel.ok("print(engine['v'][0].startswith('v'))") == "True"  # DuckDB's version, e.g. v1.4.2
        # A changed setting is honoured at the next query: nothing cached the old connection.
        kernel.ok(f"use_target('pg')\n%env ECOMDWH_PG_PORT={free_port()}")
        assert kernel.one_line_error(COUNT).startswith("Cannot reach PostgreSQL at")

        assert kernel.ok("print(outbound)") == "[]"
    finally:
        kernel.close()


def test_failures_say_what_to_do_in_one_line(tmp_path: Path):
    from ecomdwh.settings import load_settings

    settings = load_settings(
        {
            "ECOMDWH_DUCKDB_PATH": str(tmp_path / "empty.duckdb"),
            "ECOMDWH_STATE_DIR": str(tmp_path / "state"),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: the emulator is down
            "ECOMDWH_ENV": "nbsql",
        }
    )
    duckdb.connect(str(settings.warehouse_path)).close()  # a warehouse with nothing loaded
    kernel = Kernel(kernel_env(settings, tmp_path), tmp_path)
    try:
        kernel.ok("%load_ext ecomdwh")
        # A failing build names the node and why, after its summary, and the writer lock is released.
        failed = kernel.run("%dbt build -s dim_date")
        assert failed.status == "error" and len(failed.errors) == 1 and not failed.streams.strip(), failed
        (line,) = failed.errors[0]
        assert line.startswith("dbt build failed on the local target: dim_date:") and "\n" not in line, line
        assert "stg_shop__orders" in line and line.endswith(f"see {tmp_path / 'dbt-logs'}/dbt.log.")
        assert (tmp_path / "dbt-logs" / "dbt.log").exists()
        assert any("dim_date" in result and "error" in result for result in failed.results)
        duckdb.connect(str(settings.warehouse_path)).close()

        kernel.ok(f"%env ECOMDWH_DUCKDB_PATH={tmp_path / 'missing.duckdb'}")
        missing = kernel.one_line_error("%%sql\nselect 1")
        assert missing.startswith(f"There is no local warehouse at {tmp_path / 'missing.duckdb'} yet;")
        assert "`make demo` (or `ecomdwh run`) builds it." in missing

        lake = "from ecomdwh import lake, settings\nlake.read_layer(settings.get_settings(), 'orders')"
        assert "`ecomdwh emulator start`" in kernel.one_line_error(lake)

        assert "No dbt command" in kernel.one_line_error("%dbt --version-check")
    finally:
        kernel.close()
