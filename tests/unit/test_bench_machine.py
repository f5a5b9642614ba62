"""The machine's state recorded beside a benchmark's results: the only way to compare results of other days."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomdwh.devtools import benchmark
from ecomdwh.devtools.bench import machine
from tests.conftest import scratch_env

STAT = """cpu  1000 10 300 5000 200 5 5 80 0 0
cpu0 500 5 150 2500 100 2 3 40 0 0
intr 12345
"""


def test_cpu_shares_split_the_time_between_two_readings_into_busy_idle_and_stolen(tmp_path: Path):
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    before = machine.cpu_ticks(stat)
    assert before == {
        "user": 1000, "nice": 10, "system": 300, "idle": 5000, "iowait": 200, "irq": 5, "softirq": 5, "steal": 80,
    }  # fmt: skip
    # 400 ticks later: 250 busy (user, system), 100 idle, 50 stolen by the host.
    after = {**before, "user": 1200, "system": 350, "idle": 5080, "iowait": 220, "steal": 130}
    assert machine.cpu_shares(before, after) == {"busy": 0.625, "idle": 0.25, "steal": 0.125}
    assert machine.cpu_shares(before, before) is None  # no time passed
    assert machine.cpu_shares(None, after) is None


@pytest.mark.parametrize("text", ["", "intr 1 2 3\n"])
def test_a_kernel_without_cpu_times_gives_none(tmp_path: Path, text: str):
    stat = tmp_path / "stat"
    stat.write_text(text)
    assert machine.cpu_ticks(stat) is None
    assert machine.cpu_ticks(tmp_path / "absent") is None


def test_the_reference_work_is_timed_and_grows_with_its_size():
    small, large = machine.reference_seconds(mib=4, rounds=1), machine.reference_seconds(mib=64, rounds=1)
    assert 0 < small < large


def test_bench_writes_the_machine_beside_the_results_and_says_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_in_process
):
    monkeypatch.setattr(machine, "REFERENCE_MIB", 8)
    monkeypatch.setitem(
        benchmark.CASES,
        "tiny",
        lambda settings, progress: {"case": "tiny", "goal": "-", "measured": "-", "goal_met": None},
    )
    main = cli_in_process(scratch_env(tmp_path, "benchmachine"))
    code, output = main("bench", "--case", "tiny", "--out", str(tmp_path / "results"))
    assert code == 0, output
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    seen = document["machine"]
    reference = seen["reference_sha256_8mib_s"]
    assert reference["before"] > 0 and reference["after"] > 0
    assert len(seen["load_average_at_start"]) == 3
    shares = seen["cpu_during_cases"]
    assert shares is None or abs(sum(shares.values()) - 1) < 0.01
    assert f"the reference work took {reference['before']} s before the cases" in " ".join(output.split())
