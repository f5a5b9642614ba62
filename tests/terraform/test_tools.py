"""The slow checks that run tools: checkov on terraform/, and terraform itself against a mocked provider.

Both run offline. checkov lives in its own venv (`make setup`; it downgrades boto3 and friends in
ours). `terraform validate` and `terraform test` need the AWS provider binary: they run where a
local provider mirror holds it (ECOMDWH_TF_PLUGIN_MIRROR, or one of terraform's implied local
mirror folders), and `make tf-validate` covers the rest, with network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ecomdwh.devtools import toolchain
from ecomdwh.settings import load_settings
from glue_local.runtime.package import build_etl_zip
from tests.terraform.tfconfig import ENVIRONMENT_NAMES, ROOT, TERRAFORM

pytestmark = pytest.mark.slow

# Variables that could make checkov talk to a platform; removed from its environment.
_CHECKOV_PLATFORM_VARIABLES = ("BC_API_KEY", "PRISMA_API_URL", "BC_FROM_BRANCH", "BC_REPO_ID")


def test_checkov_finds_nothing_but_the_documented_skips():
    settings = load_settings()
    if not toolchain.checkov_ready(settings):
        pytest.skip("checkov is not installed: `make setup` (ecomdwh setup) puts it in .cache/checkov-venv")
    env = {k: v for k, v in os.environ.items() if k not in _CHECKOV_PLATFORM_VARIABLES}
    env["CHECKOV_RUN_SCA_PACKAGE_SCAN_V2"] = "false"
    cmd = [str(toolchain.checkov_bin(settings)), "-d", "terraform", "--framework", "terraform"]
    cmd += ["--quiet", "--compact", "-o", "json", "--skip-download", "--download-external-modules", "false"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.stdout.strip(), f"checkov printed nothing: {result.stderr[-2000:]}"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failures = [
        f"{f['check_id']} {f['check_name']}: {f['resource']} ({f['file_path']}:{f['file_line_range'][0]})"
        for report in reports
        for f in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failures, "checkov failed checks (fix them, or skip with a reason next to the resource):\n" + "\n".join(
        failures
    )
    summaries = [r["summary"] for r in reports if "summary" in r]
    assert summaries and all(s["parsing_errors"] == 0 for s in summaries), summaries
    assert sum(s["passed"] for s in summaries) > 100, "checkov scanned almost nothing"


def _provider_mirror() -> Path | None:
    candidates = [
        os.environ.get("ECOMDWH_TF_PLUGIN_MIRROR"),
        Path.home() / ".terraform.d" / "plugins",
        "/usr/local/share/terraform/plugins",
        "/usr/share/terraform/plugins",
        "/opt/tf-plugins",
    ]
    for candidate in filter(None, candidates):
        aws = Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws"
        # The modules ask for >= 5.100, < 7.0.
        if aws.is_dir() and any(re.fullmatch(r"5\.(1\d\d|[2-9]\d\d)\.\d+|6\.\d+\.\d+", v.name) for v in aws.iterdir()):
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A scratch copy of terraform/ beside the job scripts and a freshly built etl zip."""
    mirror = _provider_mirror()
    if shutil.which("terraform") is None or mirror is None:
        pytest.skip(
            "needs the terraform binary and a local mirror of the hashicorp/aws provider "
            "(set ECOMDWH_TF_PLUGIN_MIRROR); with network, `make tf-validate` does the same"
        )
    root = tmp_path_factory.mktemp("tf")
    shutil.copytree(TERRAFORM, root / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    shutil.copytree(ROOT / "glue_local" / "jobs", root / "glue_local" / "jobs")
    build_etl_zip(root / "dist" / "glue_etl.zip")
    rc = root / "terraformrc"
    aws = '["registry.terraform.io/hashicorp/aws"]'
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = {aws}\n  }}\n'
        f"  direct {{\n    exclude = {aws}\n  }}\n"
        "}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env |= {"TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return root, env


def _terraform(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(["terraform", *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"terraform {' '.join(args)} in {cwd.name}:\n{result.stdout[-4000:]}{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_environment_validates_and_renders_with_a_mocked_provider(workspace, env_name: str):
    root, env = workspace
    directory = root / "terraform" / "environments" / env_name
    _terraform(["init", "-backend=false", "-input=false"], directory, env)
    _terraform(["validate"], directory, env)
    # wiring.tftest.hcl: apply against mock_provider "aws", then assert names and the rendered ASL; a second run
    # with disaster recovery on asserts the replication rules.
    (directory / "tests").mkdir()
    shutil.copy(Path(__file__).with_name("wiring.tftest.hcl"), directory / "tests")
    assert "2 passed, 0 failed" in _terraform(["test"], directory, env)
