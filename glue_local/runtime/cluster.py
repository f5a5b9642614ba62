"""A Spark standalone cluster on loopback, started from pyspark's own launcher: a master and workers.

For running the Glue jobs on more than one executor where one machine is not enough, and for the
test that proves they run there unchanged. Every process binds 127.0.0.1 and is stopped by its own pid.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyspark

from ecomdwh.errors import UserError

_SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"A Spark cluster process exited at start; see {log}.")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise UserError(f"A Spark cluster process did not listen on 127.0.0.1:{port} within {seconds:.0f} s; see {log}.")


def _wait_for_workers(ui_port: int, workers: int, seconds: float = 60) -> None:
    """Until the master's status page (its JSON, on loopback) counts `workers` alive workers."""
    import json
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:  # noqa: S310
            if json.load(response).get("aliveworkers", 0) >= workers:
                return
        time.sleep(0.5)
    raise UserError(f"The Spark master did not see {workers} workers within {seconds:.0f} s.")


@contextmanager
def standalone_cluster(work_dir: Path, workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[str]:
    """Start a master and `workers` workers on 127.0.0.1; yields the master URL; stops them all on exit."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    processes: list[subprocess.Popen] = []

    def start(name: str, args: list[str], port: int) -> None:
        log = work_dir / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(_SPARK_CLASS), *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work_dir
            )
        processes.append(process)
        _wait_for(port, process, log)

    try:
        port, ui_port = _free_port(), _free_port()
        master_class = "org.apache.spark.deploy.master.Master"
        start("master", [master_class, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)], port)
        url = f"spark://127.0.0.1:{port}"
        for i in range(workers):
            worker_port = _free_port()
            args = ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port", str(worker_port),
                    "--webui-port", str(_free_port()), "--cores", str(cores), "--memory", memory,
                    "--work-dir", str(work_dir / f"worker-{i}"), url]  # fmt: skip
            start(f"worker-{i}", args, worker_port)
        _wait_for_workers(ui_port, workers)
        yield url
    finally:
        for process in reversed(processes):  # by the pids this function started, and only those
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
