"""A throwaway PostgreSQL server from the machine's own binaries, on a loopback port: for the tests
(the `pg` target's parity checks) and the benchmark."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ecomdwh.errors import UserError


def bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _as_server_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the packages ship a `postgres` user for that.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def server(port: int, user: str = "ecomdwh", dbname: str = "ecomdwh") -> Iterator[dict[str, str]]:
    bins = bindir()
    if bins is None:
        raise UserError("The PostgreSQL server binaries (pg_ctl, initdb) are missing; `apt-get install postgresql`.")
    data = Path(tempfile.mkdtemp(prefix="ecomdwh-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(data, account.pw_uid, account.pw_gid)
    run = lambda *cmd: subprocess.run(_as_server_user([str(c) for c in cmd]), check=True, capture_output=True)  # noqa: E731
    run(bins / "initdb", "-D", data / "db", "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off -c full_page_writes=off"
    run(bins / "pg_ctl", "-D", data / "db", "-o", options, "-l", data / "server.log", "-w", "start")
    try:
        run(bins / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, dbname)
        yield {"host": "127.0.0.1", "port": str(port), "user": user, "password": "", "dbname": dbname}
    finally:
        # pg_ctl stops the server by the pid in its own postmaster.pid, and only that one.
        subprocess.run(_as_server_user([str(bins / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"]))
        shutil.rmtree(data, ignore_errors=True)
