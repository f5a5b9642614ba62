"""Offline views of terraform/: every .tf parsed with python-hcl2, per module and environment.

`terraform init` cannot download the AWS provider here, so these tests read the
configuration itself: variables, outputs, module calls, policies and the ASL template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
MODULES = TERRAFORM / "modules"
ENVIRONMENTS = TERRAFORM / "environments"
MODULE_NAMES = (
    "network",
    "data_lake",
    "glue",
    "redshift_serverless",
    "container_registry",
    "streaming",
    "orchestration",
    "monitoring",
    "disaster_recovery",
)
ENVIRONMENT_NAMES = ("dev", "prod")
ASL_TEMPLATE = MODULES / "orchestration" / "pipeline.asl.json"

# Plain Python values: quotes stripped, blocks as dicts, comments left out.
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
# Arguments of a module block that are terraform's own, not the module's variables.
META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}


def parse_hcl(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=_OPTIONS)


def parse_file(path: Path) -> dict[str, Any]:
    return parse_hcl(path.read_text())


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def _blocks(parsed: dict, kind: str) -> dict[str, dict]:
    """`variable "x" {...}` blocks of one kind, by label."""
    return {name: body for block in parsed.get(kind, []) for name, body in block.items()}


@dataclass
class Config:
    """One terraform root or child module: its .tf files merged."""

    path: Path
    text: str = ""
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    modules: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: list[tuple[str, str, dict]] = field(default_factory=list)
    data: list[tuple[str, str, dict]] = field(default_factory=list)
    terraform: list[dict] = field(default_factory=list)
    providers: list[dict] = field(default_factory=list)

    def resource(self, kind: str, name: str) -> dict:
        return next(body for k, n, body in self.resources if (k, n) == (kind, name))

    @property
    def required_variables(self) -> set[str]:
        return {name for name, body in self.variables.items() if "default" not in body}


@cache
def load_config(path: Path) -> Config:
    config = Config(path)
    for tf in sorted(path.glob("*.tf")):
        parsed = parse_file(tf)
        config.text += tf.read_text()
        config.variables |= _blocks(parsed, "variable")
        config.outputs |= _blocks(parsed, "output")
        config.modules |= _blocks(parsed, "module")
        for block in parsed.get("locals", []):
            config.locals |= block
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        (config.resources if kind == "resource" else config.data).append((rtype, name, body))
        config.terraform += parsed.get("terraform", [])
        config.providers += parsed.get("provider", [])
    return config


def module(name: str) -> Config:
    return load_config(MODULES / name)


def environment(name: str) -> Config:
    return load_config(ENVIRONMENTS / name)


def tfvars(env: str) -> dict[str, Any]:
    return parse_file(ENVIRONMENTS / env / "terraform.tfvars")


def interpolate(template: str, values: dict[str, str]) -> str:
    """Substitute `${name}` references from values until none of them is left (enough for names)."""
    pattern = re.compile(r"\$\{([^}]+)\}")
    for _ in range(10):
        rendered = pattern.sub(lambda m: values.get(m.group(1).strip(), m.group(0)), template)
        if rendered == template:
            break
        template = rendered
    return template


def jsonencode_argument(value: str) -> Any:
    """The HCL object inside a `${jsonencode({...})}` string, as Python values."""
    inner = value.strip()
    assert inner.startswith("${jsonencode(") and inner.endswith(")}"), inner[:60]
    return parse_hcl("x = " + inner[len("${jsonencode(") : -2])["x"]
