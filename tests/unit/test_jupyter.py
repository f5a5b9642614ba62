"""The project's kernel is registered when missing or stale and left alone when in place; `ecomdwh lab`'s command
line roots Lab at the repository, opens explore.ipynb, stays on loopback and offline; a busy port is one sentence."""

from __future__ import annotations

import socket
import sys
from types import SimpleNamespace

import pytest

from ecomdwh import kernel
from ecomdwh.devtools import jupyter
from ecomdwh.errors import UserError
from ecomdwh.settings import load_settings


def spec(python: str, display_name: str = kernel.KERNEL_DISPLAY_NAME) -> SimpleNamespace:
    return SimpleNamespace(argv=[python, "-m", "ipykernel_launcher"], display_name=display_name, resource_dir="/k")


@pytest.mark.parametrize(
    ("found", "registers"),
    [
        (None, True),
        (spec("/elsewhere/bin/python"), True),
        (spec(sys.executable, "Python 3 (ipykernel)"), True),
        (spec(sys.executable), False),
    ],
    ids=["missing", "another-python", "another-name", "in-place"],
)
def test_ensure_kernel_registers_only_when_needed(monkeypatch: pytest.MonkeyPatch, found, registers: bool):
    state = {"spec": found, "registered": 0}

    def register(python: str = sys.executable) -> None:
        state["registered"] += 1
        state["spec"] = spec(python)

    monkeypatch.setattr(kernel, "_registered_spec", lambda: state["spec"])
    monkeypatch.setattr(kernel, "register_kernel", register)
    assert kernel.ensure_kernel() is registers
    assert state["registered"] == int(registers)


def test_a_shadowing_kernelspec_is_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(kernel, "_registered_spec", lambda: spec("/elsewhere/bin/python"))
    monkeypatch.setattr(kernel, "register_kernel", lambda python=sys.executable: None)
    with pytest.raises(UserError, match="runs another Python"):
        kernel.ensure_kernel()


def test_lab_command_roots_lab_at_the_repository_and_opens_explore():
    settings = load_settings()
    command = jupyter.lab_command(settings, 8899)
    assert f"--ServerApp.root_dir={settings.root}" in command
    assert "--LabApp.default_url=/lab/tree/notebooks/explore.ipynb" in command
    assert "--ServerApp.ip=127.0.0.1" in command
    assert "--LabApp.news_url=None" in command
    assert "--MappingKernelManager.default_kernel_name=ecomdwh" in command
    assert not [arg for arg in command if "token" in arg.lower()]  # the token travels in the environment
    env = jupyter.lab_env(settings, "t0ken")
    assert env["JUPYTER_TOKEN"] == "t0ken"
    assert env["JUPYTER_CONFIG_PATH"].split(":")[0] == str(settings.root / "jupyter")
    assert (settings.root / "jupyter" / "labconfig" / "default_setting_overrides.json").is_file()


def test_a_busy_port_is_one_sentence():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(UserError, match=f"Port {port} on 127.0.0.1 is in use"):
            jupyter.lab(load_settings(), port)


def test_jsonschema_starts_without_the_iri_grammars():
    """`make setup` leaves out jsonschema's optional IRI checker: kernels, papermill, GX and altair import
    jsonschema, and with the checker installed each of those processes would build its grammars first."""
    import subprocess

    code = "import sys, jsonschema; print('rfc3987_syntax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
