"""One graph, two runners: the Step Functions template's steps are `ecomdwh run`'s steps, in order.

The template keeps every `${...}` placeholder inside a JSON string, so it is valid JSON as
committed; the tests render it by plain substitution, the way templatefile() would.

Pipeline steps are the Task and Parallel states on the main path from StartAt (following Next,
and a Choice's Default), except the notifications (sns:publish). Every other state is named
`<step>_<detail>` (a helper of that step) or is one of the notification/failure states.
"""

from __future__ import annotations

import json
import re

import pytest

from ecomdwh.pipeline import STEP_NAMES
from tests.terraform.tfconfig import ASL_TEMPLATE, module

NOTIFY, NOTIFY_FAILURE, FAILED = "notify", "notify_failure", "failed"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
ECS_SYNC = "arn:aws:states:::ecs:runTask.sync"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def _template_variables() -> dict[str, str]:
    """The variables the orchestration module passes to templatefile(), by name."""
    text = module("orchestration").locals["asl"]
    arguments = text[text.index('pipeline.asl.json", {') + len('pipeline.asl.json", {') :]
    return dict(re.findall(r"(\w+) = ([^,}]+)", arguments))


def render(values: dict[str, str] | None = None) -> dict:
    names = set(PLACEHOLDER.findall(ASL_TEMPLATE.read_text()))
    values = values or {name: f"<{name}>" for name in names}
    return json.loads(PLACEHOLDER.sub(lambda m: values[m.group(1)], ASL_TEMPLATE.read_text()))


def main_path(asl: dict) -> list[str]:
    path, name = [], asl["StartAt"]
    while name is not None:
        assert name not in path, f"loop at {name}"
        path.append(name)
        state = asl["States"][name]
        name = state.get("Default") if state["Type"] == "Choice" else state.get("Next")
    return path


def pipeline_steps(asl: dict) -> list[str]:
    return [
        name
        for name in main_path(asl)
        if asl["States"][name]["Type"] in ("Task", "Parallel") and asl["States"][name].get("Resource") != SNS_PUBLISH
    ]


def test_the_template_is_json_with_placeholders_inside_strings_only():
    # json.loads of the raw file: a placeholder outside a string would not parse.
    raw = json.loads(ASL_TEMPLATE.read_text())
    assert raw["StartAt"] == STEP_NAMES[0]


def test_the_module_renders_the_template_with_exactly_its_placeholders():
    placeholders = set(PLACEHOLDER.findall(ASL_TEMPLATE.read_text()))
    passed = _template_variables()
    assert set(passed) == placeholders, f"missing {placeholders - set(passed)}, extra {set(passed) - placeholders}"
    assert 'templatefile("${path.module}/pipeline.asl.json"' in module("orchestration").text


def test_the_task_states_are_the_steps_of_ecomdwh_run_in_order():
    assert pipeline_steps(render()) == STEP_NAMES


def test_the_order_check_notices_a_reordering():
    asl = render()
    states = asl["States"]
    # Swap dbt and load: land -> glue -> dbt -> load -> reconcile.
    states["glue"]["Next"], states["dbt"]["Next"], states["load"]["Next"] = "dbt", "load", "reconcile"
    assert pipeline_steps(asl) != STEP_NAMES


def test_every_other_state_is_a_named_helper_or_a_notification():
    asl = render()
    for name in asl["States"]:
        if name in STEP_NAMES or name in (NOTIFY, NOTIFY_FAILURE, FAILED):
            continue
        step = name.split("_", 1)[0]
        assert "_" in name and step in STEP_NAMES, f"state {name}: not a step, a <step>_ helper or a notification"


def test_the_run_ends_with_a_success_notice():
    asl = render()
    path = main_path(asl)
    assert path[-1] == NOTIFY
    assert asl["States"][NOTIFY]["Resource"] == SNS_PUBLISH
    assert asl["States"][NOTIFY]["End"] is True
    assert asl["States"][NOTIFY]["Arguments"]["TopicArn"] == "<notification_topic_arn>"


def test_every_task_catches_into_the_failure_notice_then_fails():
    states = render()["States"]
    for name, state in states.items():
        if state["Type"] not in ("Task", "Parallel") or name == NOTIFY_FAILURE:
            continue
        catchers = state.get("Catch", [])
        assert any("States.ALL" in c["ErrorEquals"] and c["Next"] == NOTIFY_FAILURE for c in catchers), name
    failure = states[NOTIFY_FAILURE]
    assert failure["Resource"] == SNS_PUBLISH
    assert failure["Arguments"]["TopicArn"] == "<failure_topic_arn>"
    assert failure["Next"] == FAILED and states[FAILED]["Type"] == "Fail"
    assert all(c["Next"] == FAILED for c in failure["Catch"])


def test_land_checks_the_raw_bucket():
    land = render()["States"]["land"]
    assert land["Resource"] == "arn:aws:states:::aws-sdk:s3:listObjectsV2"
    assert land["Arguments"]["Bucket"] == "<raw_bucket>"


def test_glue_runs_every_job_in_parallel_and_waits_for_it():
    glue = render()["States"]["glue"]
    assert glue["Type"] == "Parallel"
    # One branch written for a placeholder job; the module repeats it once per Glue job.
    [branch] = glue["Branches"]
    assert branch["StartAt"] == "<glue_job_name>"
    task = branch["States"]["<glue_job_name>"]
    assert task["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert task["Arguments"]["JobName"] == "<glue_job_name>"
    assert "replace(local.glue_branch, local.glue_job_placeholder, job)" in module("orchestration").locals["definition"]


@pytest.mark.parametrize(
    ("step", "command"),
    [
        ("load", ["ecomdwh", "load", "--target", "redshift"]),
        ("dbt", ["ecomdwh", "dbt", "build", "--exclude-resource-type", "unit_test", "--target", "redshift"]),
        ("reconcile", "ecomdwh', 'report', 'reconcile'"),
        ("report", "ecomdwh', 'report', 'analytics'"),
    ],
)
def test_the_container_steps_run_ecomdwh_and_wait_for_it(step: str, command):
    state = render()["States"][step]
    assert state["Resource"] == ECS_SYNC
    arguments = state["Arguments"]
    assert arguments["Cluster"] == "<ecs_cluster_arn>" and arguments["TaskDefinition"] == "<task_definition_arn>"
    assert arguments["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    [override] = arguments["Overrides"]["ContainerOverrides"]
    assert override["Name"] == "<container_name>"
    if isinstance(command, list):
        assert override["Command"] == command
    else:
        assert command in override["Command"]
