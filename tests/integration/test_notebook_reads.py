"""A notebook never holds the warehouse: a live kernel with an open handle, and a build beside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from jupyter_client.manager import start_new_kernel

from ecomdwh import dbt_runner
from ecomdwh.settings import Settings

pytestmark = [pytest.mark.integration]

OPEN = """
from ecomdwh import warehouse
con = warehouse.connect(target="local", read_only=True)
def tables():
    sql = "select table_name from information_schema.tables where table_schema = 'gold' order by 1"
    return list(warehouse.read_sql(con, sql)["table_name"])
print(len(tables()))
"""


def run_cell(client, code: str) -> str:
    """Execute `code` in the kernel; its printed output (fails the test on an error)."""
    out: list[str] = []
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda m: out.append(_text(m)))
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out).strip()


def _text(message: dict) -> str:
    content = message["content"]
    if message["msg_type"] == "stream":
        return content["text"]
    if message["msg_type"] == "error":
        return "\n".join(content["traceback"])
    return ""


def test_builds_run_beside_an_open_notebook_and_its_next_cell_sees_them(
    small_gold: tuple[Settings, dict], tmp_path: Path
):
    built, _ = small_gold
    settings = built.with_overrides(duckdb_path=tmp_path / "ecomdwh.duckdb")
    shutil.copy(built.warehouse_path, settings.warehouse_path)
    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ, **settings.child_env()})
    try:
        gold_tables = int(run_cell(client, OPEN))
        assert gold_tables > 5

        # Writers work while the kernel keeps its handle: a dbt build, and a plain read-write connection.
        result = dbt_runner.run_dbt(settings, ["build", "--select", "dim_date"], "local", capture=True)
        assert result.returncode == 0, result.stdout[-2000:]
        writer = duckdb.connect(str(settings.warehouse_path))
        writer.execute("create table gold.added_beside_the_notebook as select 1 as n")
        writer.close()

        # The next cell sees what was written, with the same handle and no kernel restart.
        assert int(run_cell(client, "print(len(tables()))")) == gold_tables + 1
        assert run_cell(client, "print('added_beside_the_notebook' in tables())") == "True"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
