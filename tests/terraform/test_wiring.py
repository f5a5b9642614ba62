"""Static checks of terraform/ that need no provider: formatting, parsing, module wiring, names, IAM."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ecomdwh.contract import ENTITIES
from ecomdwh.settings import Settings
from glue_local.runtime import runner
from tests.terraform.tfconfig import (
    ENVIRONMENT_NAMES,
    ENVIRONMENTS,
    META_ARGUMENTS,
    MODULE_NAMES,
    MODULES,
    ROOT,
    TERRAFORM,
    Config,
    environment,
    interpolate,
    jsonencode_argument,
    load_config,
    module,
    parse_file,
    tf_files,
    tfvars,
)

ALL_CONFIGS = [MODULES / m for m in MODULE_NAMES] + [ENVIRONMENTS / e for e in ENVIRONMENT_NAMES]


def _id(path: Path) -> str:
    return path.relative_to(TERRAFORM).as_posix()


def test_terraform_fmt_is_clean():
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("no terraform binary on PATH: `terraform fmt -check` cannot run (install Terraform >= 1.10)")
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"run `make tf-fmt`:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", tf_files(), ids=_id)
def test_every_tf_file_parses(path: Path):
    assert isinstance(parse_file(path), dict)


def test_the_modules_and_environments_are_all_there():
    assert sorted(p.name for p in MODULES.iterdir() if p.is_dir()) == sorted(MODULE_NAMES)
    assert sorted(p.name for p in ENVIRONMENTS.iterdir() if p.is_dir()) == sorted(ENVIRONMENT_NAMES)
    for name in MODULE_NAMES:
        present = {p.name for p in (MODULES / name).iterdir()}
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= present, name


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=_id)
def test_terraform_and_provider_versions_are_pinned(path: Path):
    [settings] = load_config(path).terraform
    # Native S3 lock files (use_lockfile) need terraform 1.10.
    assert settings["required_version"] == ">= 1.10"
    [providers] = settings["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert re.fullmatch(r">= 5\.\d+, < 7\.0|~> [56]\.\d+", providers["aws"]["version"]), providers["aws"]["version"]


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=_id)
def test_every_variable_has_a_type_and_a_description(path: Path):
    config = load_config(path)
    assert config.variables, "no variables found"
    for name, body in config.variables.items():
        assert body.get("type"), f"variable {name} in {_id(path)} has no type"
        assert str(body.get("description", "")).strip(), f"variable {name} in {_id(path)} has no description"


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=_id)
def test_every_output_has_a_description(path: Path):
    for name, body in load_config(path).outputs.items():
        assert str(body.get("description", "")).strip(), f"output {name} in {_id(path)} has no description"


@pytest.mark.parametrize("path", ALL_CONFIGS, ids=_id)
def test_every_var_and_local_reference_is_declared(path: Path):
    config = load_config(path)
    used_vars = set(re.findall(r"\bvar\.(\w+)", config.text))
    assert used_vars <= set(config.variables), f"undeclared: {sorted(used_vars - set(config.variables))}"
    used_locals = set(re.findall(r"\blocal\.(\w+)", config.text))
    assert used_locals <= set(config.locals), f"undefined locals: {sorted(used_locals - set(config.locals))}"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_environments_only_wire_modules(env: str):
    config = environment(env)
    assert config.resources == [], "environments create nothing themselves: resources belong in modules"
    assert {name: Path(body["source"]).name for name, body in config.modules.items()} == {
        name: name for name in MODULE_NAMES
    }


def _called_module(env: str, name: str) -> Config:
    source = environment(env).modules[name]["source"]
    return load_config((ENVIRONMENTS / env / source).resolve())


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_calls_pass_every_required_variable_and_only_declared_ones(env: str, name: str):
    call = environment(env).modules[name]
    target = _called_module(env, name)
    passed = set(call) - META_ARGUMENTS
    assert passed <= set(target.variables), f"module.{name} gets undeclared {sorted(passed - set(target.variables))}"
    missing = target.required_variables - passed
    assert not missing, f"module.{name} in {env} misses required {sorted(missing)}"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_every_module_output_reference_exists(env: str):
    config = environment(env)
    references = set(re.findall(r"\bmodule\.(\w+)\.(\w+)", config.text))
    assert references, "the environment uses no module outputs"
    for name, output in sorted(references):
        assert name in config.modules, f"module.{name} is not called in {env}"
        outputs = _called_module(env, name).outputs
        assert output in outputs, f"module.{name}.{output}: no such output (has {sorted(outputs)})"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_tfvars_set_every_required_variable_and_only_declared_ones(env: str):
    config, values = environment(env), tfvars(env)
    assert set(values) <= set(config.variables), sorted(set(values) - set(config.variables))
    assert config.required_variables <= set(values), sorted(config.required_variables - set(values))
    assert values["environment"] == env


def test_dev_is_smaller_than_prod():
    dev, prod = tfvars("dev"), tfvars("prod")
    assert dev["redshift_base_capacity"] < prod["redshift_base_capacity"]
    assert dev["redshift_max_capacity"] <= prod["redshift_max_capacity"]
    assert dev["glue_number_of_workers"] <= prod["glue_number_of_workers"]
    assert dev["log_retention_days"] < prod["log_retention_days"]
    assert dev["log_expiration_days"] < prod["log_expiration_days"]
    assert dev["interface_endpoint_az_count"] < prod["interface_endpoint_az_count"]
    assert dev["monthly_budget_usd"] < prod["monthly_budget_usd"]


def test_each_environment_has_its_own_s3_backend_with_a_lock_file():
    keys, buckets = set(), set()
    for env in ENVIRONMENT_NAMES:
        [settings] = environment(env).terraform
        [backend] = settings["backend"]
        s3 = backend["s3"]
        assert s3["use_lockfile"] is True and s3["encrypt"] is True
        assert "dynamodb_table" not in s3, "native S3 lock files replace the DynamoDB table"
        keys.add(s3["key"])
        partial = parse_file(ENVIRONMENTS / env / "backend.hcl")
        assert {"bucket", "region"} <= set(partial), f"{env}/backend.hcl must give bucket and region"
        buckets.add(partial["bucket"])
    assert len(keys) == len(buckets) == len(ENVIRONMENT_NAMES), "state keys and buckets must differ per environment"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_default_tags(env: str):
    providers = environment(env).providers
    assert len(providers) == 2, "the environment's region and the DR region (alias dr)"
    assert [p["aws"].get("alias") for p in providers].count("dr") == 1
    for provider in providers:
        [default_tags] = provider["aws"]["default_tags"]
        assert {"project", "environment", "owner", "cost_center"} <= set(default_tags["tags"])


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_bucket_names_are_the_ones_the_workbench_uses(env: str):
    lake = module("data_lake")
    values = {"var.project": tfvars(env)["project"], "var.environment": tfvars(env)["environment"]}
    values["local.name_prefix"] = interpolate(lake.locals["name_prefix"], values)
    names = {layer: interpolate(name, values) for layer, name in lake.locals["data_buckets"].items()}
    names["logs"] = interpolate(lake.locals["logs_bucket"], values)
    settings = Settings(project=values["var.project"], env=values["var.environment"])
    assert names == {"raw": settings.raw_bucket, "staging": settings.staging_bucket, "logs": settings.logs_bucket}
    # The modules downstream get the names from data_lake's outputs, never spelled again.
    assert not re.search(r'"[^"]*-(raw|staging|logs)"', environment(env).text)


def test_every_glue_script_gets_one_job_per_entity():
    glue = module("glue")
    # The scripts are a fileset over the jobs folder, so a new script gets its jobs without an edit here.
    assert re.search(r'fileset\(var\.jobs_dir, "\*\.py"\)', glue.locals["scripts"]), glue.locals["scripts"]
    job = glue.resource("aws_glue_job", "this")
    assert job["for_each"] == "${local.jobs}"
    assert glue.variables["entities"]["default"] == list(ENTITIES)
    for env in ENVIRONMENT_NAMES:
        jobs_dir = interpolate(environment(env).modules["glue"]["jobs_dir"], {"local.repo_root": "../../.."})
        assert (ENVIRONMENTS / env / jobs_dir).resolve() == runner.JOBS_DIR.resolve()
    # The job name template is runner.job_name(): the names the local runs and bookmarks use.
    name_template = re.search(r'"(\$\{local\.name_prefix\}-.*?)" =>', glue.locals["jobs"]).group(1)
    for script in runner.job_scripts():
        for entity in ENTITIES:
            rendered = name_template.replace("${local.name_prefix}", "ecomdwh-dev")
            rendered = rendered.replace('${replace(script, "_", "-")}', script.replace("_", "-"))
            rendered = rendered.replace('${replace(entity, "_", "-")}', entity.replace("_", "-"))
            assert rendered == runner.job_name(Settings(), script, entity)


def test_glue_jobs_are_glue_5_with_bookmarks_the_etl_zip_and_logging():
    glue = module("glue")
    assert glue.variables["glue_version"]["default"] == "5.0"
    job = glue.resource("aws_glue_job", "this")
    assert job["glue_version"] == "${var.glue_version}"
    assert job["security_configuration"]
    arguments = job["default_arguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert arguments["--entity"] == "${each.value.entity}"
    assert {"--raw_bucket", "--staging_bucket", "--extra-py-files"} <= set(arguments)
    assert arguments["--enable-continuous-cloudwatch-log"] == arguments["--enable-metrics"] == "true"
    script = glue.resource("aws_s3_object", "script")
    assert script["for_each"] == "${local.scripts}"
    assert "filemd5(" in script["source_hash"], "uploaded scripts must be content-tracked"
    assert "filemd5(" in glue.resource("aws_s3_object", "etl_zip")["source_hash"]
    assert glue.resource("aws_glue_crawler", "silver")["security_configuration"]


def test_redshift_serverless_is_private_with_a_managed_password():
    redshift = module("redshift_serverless")
    namespace = redshift.resource("aws_redshiftserverless_namespace", "this")
    assert namespace["manage_admin_password"] is True
    assert "admin_user_password" not in namespace
    assert namespace["kms_key_id"] and namespace["default_iam_role_arn"]
    workgroup = redshift.resource("aws_redshiftserverless_workgroup", "this")
    assert workgroup["publicly_accessible"] is False
    assert workgroup["enhanced_vpc_routing"] is True
    assert workgroup["base_capacity"] == "${var.base_capacity}"


def test_the_image_repository_scans_keeps_tags_immutable_encrypts_and_expires_old_images():
    registry = module("container_registry")
    repository = registry.resource("aws_ecr_repository", "pipeline")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"][0]["scan_on_push"] is True
    assert "KMS" in repository["encryption_configuration"][0]["encryption_type"]
    rules = jsonencode_argument(registry.resource("aws_ecr_lifecycle_policy", "pipeline")["policy"])["rules"]
    by_status = {rule["selection"]["tagStatus"]: rule for rule in rules}
    assert by_status["untagged"]["selection"]["countType"] == "sinceImagePushed"
    assert by_status["tagged"]["selection"]["countType"] == "imageCountMoreThan"
    assert by_status["tagged"]["selection"]["countNumber"] == "${var.keep_tagged_images}"
    assert all(rule["action"]["type"] == "expire" for rule in rules)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_the_task_runs_the_environments_image_and_copies_reports_to_the_logs_bucket(env: str):
    config = environment(env)
    orchestration = config.modules["orchestration"]
    assert orchestration["container_image"] == "${module.container_registry.repository_url}:${var.image_tag}"
    assert orchestration["logs_bucket_name"] == "${module.data_lake.logs_bucket_name}"
    assert config.modules["container_registry"]["kms_key_arn"] == "${module.data_lake.kms_key_arn}"
    assert "container_image" not in config.variables, "the image comes from the registry module and image_tag"
    assert tfvars(env)["image_tag"] == "REPLACE_ME", "the committed tfvars hold the placeholder plan refuses"
    assert "REPLACE_ME" in config.variables["image_tag"]["validation"][0]["condition"]

    tasks = module("orchestration")
    containers = jsonencode_argument(tasks.resource("aws_ecs_task_definition", "pipeline")["container_definitions"])
    environment_vars = {item["name"]: item["value"] for item in containers[0]["environment"]}
    assert environment_vars["ECOMDWH_REPORTS_URI"] == "${local.reports_uri}"
    assert tasks.locals["reports_uri"] == "s3://${var.logs_bucket_name}/reports"
    writes = [st for where, st in _statements(tasks) if "s3:PutObject" in st["Action"]]
    assert [st["Resource"] for st in writes] == [["${var.logs_bucket_arn}/reports/*"]]
    # The tasks pull from the environment's own repository, no other.
    assert orchestration["container_repository_arn"] == "${module.container_registry.repository_arn}"
    pulls = [st for where, st in _statements(tasks) if "ecr:BatchGetImage" in st["Action"]]
    assert [st["Resource"] for st in pulls] == [["${var.container_repository_arn}"]]


def _statements(config: Config) -> list[tuple[str, dict]]:
    """Every policy statement: aws_iam_policy_document blocks and jsonencode()d policies."""
    found = []
    for kind, name, body in config.data:
        if kind == "aws_iam_policy_document":
            for statement in body.get("statement", []):
                found.append(
                    (
                        f"data.{kind}.{name}",
                        {
                            "Effect": statement.get("effect", "Allow"),
                            "Action": _as_list(statement.get("actions", [])),
                            "NotAction": _as_list(statement.get("not_actions", [])),
                            "Resource": _as_list(statement.get("resources", []))
                            + _as_list(statement.get("not_resources", [])),
                        },
                    )
                )
    for kind, name, body in config.resources:
        for key in ("policy", "assume_role_policy"):
            if isinstance(body.get(key), str) and body[key].startswith("${jsonencode("):
                document = jsonencode_argument(body[key])
                # An ECR lifecycle policy is a "policy" too, with rules and no statements.
                for statement in document.get("Statement", []):
                    found.append((f"{kind}.{name}", statement))
    return found


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _wildcard_grants(config: Config) -> list[str]:
    problems = []
    for where, statement in _statements(config):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if "*" in actions:
            problems.append(f"{where}: Action '*'")
        if statement.get("NotAction"):
            problems.append(f"{where}: an Allow with NotAction grants nearly everything")
        for action in actions:
            # A service wildcard on every resource only in a KMS key policy, where "*" means the key itself.
            key_policy = action == "kms:*" and where.startswith("aws_kms_key.")
            if action.endswith(":*") and "*" in resources and not key_policy:
                problems.append(f"{where}: {action} on '*'")
    return problems


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_no_policy_allows_every_action_on_every_resource(name: str):
    assert _wildcard_grants(module(name)) == []


def test_the_wildcard_check_catches_wildcards(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'data "aws_iam_policy_document" "bad" {\n  statement {\n    actions   = ["*"]\n    resources = ["*"]\n  }\n}\n'
        'resource "aws_iam_policy" "bad" {\n  policy = jsonencode({ Statement = [{ Effect = "Allow", '
        'Action = "s3:*", Resource = "*" }] })\n}\n'
    )
    assert len(_wildcard_grants(load_config(tmp_path))) == 2


def test_policy_parsing_sees_the_policies():
    # Guards the test above against silently parsing nothing.
    assert len(_statements(module("orchestration"))) >= 15
    assert any(where.startswith("aws_kms_key.") for where, _ in _statements(module("data_lake")))


def test_checkov_skips_are_few_and_give_a_reason():
    skips = [
        (path, match)
        for path in tf_files()
        for match in re.finditer(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?", path.read_text())
    ]
    for path, match in skips:
        assert match.group(2) and len(match.group(2).strip()) >= 20, f"{_id(path)}: {match.group(0)} gives no reason"
    # 11: the DR replicas' access logging is the newest (modules/disaster_recovery/README.md says why).
    assert len(skips) <= 11, "keep checkov skips few: fix the resource instead"


def test_no_credentials_in_terraform():
    for path in [*tf_files(), *TERRAFORM.rglob("*.tfvars"), *TERRAFORM.rglob("*.hcl")]:
        text = path.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}", text), _id(path)
        assert not re.search(r'(?i)(password|secret_key|access_key)\s*=\s*"[^"$]', text), _id(path)
    assert ROOT / "terraform" == TERRAFORM


def test_prod_replicates_the_lake_to_another_region_and_deletes_stay_behind():
    prod, dev = tfvars("prod"), tfvars("dev")
    assert prod["dr_enabled"] is True and prod["dr_replication_time_control"] is True
    assert prod["dr_region"] != prod["region"]
    assert dev["dr_enabled"] is False, "dev's lake is reproducible from the sample"
    dr = module("disaster_recovery")
    actions = {a for _, statement in _statements(dr) for a in statement["Action"]}
    assert "s3:ReplicateObject" in actions and "s3:ReplicateDelete" not in actions
    for name in ("to_replica", "to_primary"):
        [rule] = dr.resource("aws_s3_bucket_replication_configuration", name)["rule"]
        assert rule["delete_marker_replication"] == [{"status": "Disabled"}], name
        assert rule["source_selection_criteria"][0]["sse_kms_encrypted_objects"] == [{"status": "Enabled"}], name
        assert rule["destination"][0]["encryption_configuration"][0]["replica_kms_key_id"], name
