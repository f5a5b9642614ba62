"""The Docker path: images pinned, every published port on loopback, no credentials but the emulator's."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_images_are_pinned():
    for name, service in services().items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image} is not pinned"
    assert services()["localstack"]["image"].startswith("localstack/localstack:4.13")
    assert services()["glue"]["image"] == "public.ecr.aws/glue/aws-glue-libs:5"


def test_published_ports_bind_loopback_only():
    for name, service in services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_glue_runs_the_job_script_against_the_emulator():
    glue = services()["glue"]
    command = " ".join(glue["command"])
    assert "glue_local/jobs/bronze_to_silver.py" in command
    assert glue["environment"]["AWS_ENDPOINT_URL"] == "http://localstack:4566"
    assert glue["environment"]["AWS_ACCESS_KEY_ID"] == "test"
