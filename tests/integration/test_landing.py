"""Landing into the real emulator: keys, idempotence, immutability, refusal, multipart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ecomdwh import aws, lake, landing
from ecomdwh.bronze_files import csv_text, jsonl_text, write_landing_file
from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from tests.conftest import emulator_requests, run_cli

pytestmark = pytest.mark.integration


def _bronze(root: Path) -> list[str]:
    customers = ENTITIES["customers"]
    orders = ENTITIES["orders"]
    rows = [["C1", "a@x.io", "A", "B", "Porto, Norte", "PT-13", "PT", "consumer", "2026-03-01", "2026-03-01T10:00:00Z"]]
    written = [
        write_landing_file(root, customers, "2026-03-01", "customers-1.csv", csv_text(customers.column_names, rows)),
        write_landing_file(
            root,
            orders,
            "2026-03-02",
            "orders-1.jsonl.gz",
            jsonl_text([{"order_id": "O1", "customer_id": "C1", "order_ts": "2026-03-02T09:00:00Z"}]),
        ),
    ]
    return [str(p.relative_to(root)) for p in written]


def _keys(settings: Settings) -> list[str]:
    listing = aws.s3(settings).list_objects_v2(Bucket=settings.raw_bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def _body(settings: Settings, key: str) -> bytes:
    return aws.s3(settings).get_object(Bucket=settings.raw_bucket, Key=key)["Body"].read()


def test_lands_with_contract_keys_and_relanding_is_a_no_op(tmp_path: Path, s3_settings: Settings):
    keys = _bronze(tmp_path)
    first = landing.land(s3_settings, landing.plan(tmp_path))
    assert sorted(first.uploaded) == sorted(keys) and first.unchanged == []
    assert _keys(s3_settings) == sorted(keys)
    again = landing.land(s3_settings, landing.plan(tmp_path))
    assert again.uploaded == [] and sorted(again.unchanged) == sorted(keys)
    assert landing.landed_days(s3_settings) == ["2026-03-01", "2026-03-02"]
    assert _body(s3_settings, keys[0]) == (tmp_path / keys[0]).read_bytes()
    # What the next Glue run would read, the size a command's Spark chooses its settings by: before any
    # committed run, everything landed; after one, what landed since.
    assert lake.new_raw_bytes(s3_settings) == sum((tmp_path / key).stat().st_size for key in keys)
    assert lake.new_raw_bytes(s3_settings.with_overrides(env="nosuchenv")) is None
    time.sleep(1.1)  # the listings' times are to the second
    manifest = {"Bucket": s3_settings.staging_bucket, "Key": "manifests/orders/jr_1.json", "Body": b"{}"}
    aws.s3(s3_settings).put_object(**manifest)
    assert lake.new_raw_bytes(s3_settings) == 0
    time.sleep(1.1)
    order = {"order_id": "O2", "customer_id": "C1", "order_ts": "2026-03-03T09:00:00Z"}
    later = write_landing_file(
        tmp_path / "later", ENTITIES["orders"], "2026-03-03", "orders-2.jsonl", jsonl_text([order])
    )
    landing.land(s3_settings, landing.plan(tmp_path / "later"))
    assert lake.new_raw_bytes(s3_settings) == later.stat().st_size


def test_a_landing_asks_about_a_key_only_when_the_listing_shows_it_there(tmp_path: Path, s3_settings: Settings):
    now = tmp_path / "now"
    keys = _bronze(now)  # two entities, one file each
    before = emulator_requests(s3_settings)
    landing.land(s3_settings, landing.plan(now))
    spent = emulator_requests(s3_settings) - before
    assert (spent["ListObjectsV2"], spent["HeadObject"], spent["PutObject"]) == (2, 0, 2), spent

    before = emulator_requests(s3_settings)
    again = landing.land(s3_settings, landing.plan(now))
    spent = emulator_requests(s3_settings) - before
    assert sorted(again.unchanged) == sorted(keys)
    assert (spent["ListObjectsV2"], spent["HeadObject"], spent["PutObject"]) == (2, 2, 0), spent

    # The listing starts at the landing's first day of each entity: earlier days are not listed.
    later = write_landing_file(tmp_path / "later", ENTITIES["customers"], "2026-03-05", "customers-2.csv", "x\n")
    assert landing.landed_keys(s3_settings, landing.plan(tmp_path / "later")) == set()
    assert landing.landed_keys(s3_settings, landing.plan(now)) == set(keys)
    assert later.exists()


def test_the_run_lands_day_by_day_on_one_listing_per_entity(tmp_path: Path, s3_settings: Settings):
    from ecomdwh import pipeline

    days = [f"2026-03-{d:02d}" for d in range(1, 6)]
    for day in days:
        for name in ("orders", "payments"):
            write_landing_file(tmp_path, ENTITIES[name], day, f"{name}-{day}.jsonl", "{}\n")
    ctx = pipeline.RunContext(s3_settings, tmp_path, log=lambda line: None)
    before = emulator_requests(s3_settings)
    outcome = pipeline.land_step(ctx)
    spent = emulator_requests(s3_settings) - before
    assert outcome.status == "ok" and "10 file(s) uploaded" in outcome.detail
    # A listing per entity, not per entity and day: five days cost what one does.
    assert (spent["ListObjectsV2"], spent["HeadObject"], spent["PutObject"]) == (2, 0, 10), spent


def test_a_missing_raw_bucket_is_one_sentence_from_the_command_and_the_run(tmp_path: Path, session_settings: Settings):
    from ecomdwh import pipeline

    _bronze(tmp_path)
    nowhere = session_settings.with_overrides(env="nobuckets")
    run = pipeline.RunContext(nowhere, tmp_path, log=lambda line: None)
    for land in (lambda: landing.land(nowhere, landing.plan(tmp_path)), lambda: pipeline.land_step(run)):
        with pytest.raises(UserError, match=r"^The raw bucket ecomdwh-nobuckets-raw does not exist; `ecomdwh emulator"):
            land()


def test_changed_content_under_a_landed_key_is_refused(tmp_path: Path, s3_settings: Settings):
    keys = _bronze(tmp_path)
    landing.land(s3_settings, landing.plan(tmp_path))
    (tmp_path / keys[0]).write_text("customer_id,email\nC9,z@x.io\n")
    with pytest.raises(UserError, match="already landed with different content"):
        landing.land(s3_settings, landing.plan(tmp_path))


def test_one_off_contract_file_refuses_the_landing_through_the_cli(
    tmp_path: Path, s3_settings: Settings, emulator_env: dict[str, str]
):
    _bronze(tmp_path)
    (tmp_path / "shop" / "orders" / "ingest_date=2026-03-02" / "orders.parquet").write_bytes(b"PAR1")
    result = run_cli("land", str(tmp_path), env={**emulator_env, "ECOMDWH_ENV": s3_settings.env})
    assert result.returncode == 1
    assert "orders.parquet" in result.stdout and "must end in .jsonl or .jsonl.gz" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert _keys(s3_settings) == []


def test_cli_lands_one_date(tmp_path: Path, s3_settings: Settings, emulator_env: dict[str, str]):
    keys = _bronze(tmp_path)
    result = run_cli(
        "land", str(tmp_path), "--date", "2026-03-02", env={**emulator_env, "ECOMDWH_ENV": s3_settings.env}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _keys(s3_settings) == [k for k in keys if "2026-03-02" in k]


def test_large_files_go_up_in_parts(tmp_path: Path, s3_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    # The real threshold is 256 MiB; the same code path with 8 MiB parts keeps the test small.
    monkeypatch.setattr(landing, "MULTIPART_THRESHOLD", 8 * 1024 * 1024)
    monkeypatch.setattr(landing, "PART_SIZE", 8 * 1024 * 1024)
    customers = ENTITIES["customers"]
    row = ["C{}", "a@x.io", "A", "B", "Lisboa", "PT-11", "PT", "consumer", "2026-03-01", "2026-03-01T10:00:00Z"]
    rows = ([row[0].format(i), *row[1:]] for i in range(160_000))  # about 12 MB
    path = write_landing_file(tmp_path, customers, "2026-03-01", "big.csv", csv_text(customers.column_names, rows))
    assert path.stat().st_size > landing.MULTIPART_THRESHOLD
    landing.land(s3_settings, landing.plan(tmp_path))
    key = str(path.relative_to(tmp_path))
    head = aws.s3(s3_settings).head_object(Bucket=s3_settings.raw_bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-2"), "expected a two-part multipart upload"
    assert head["ContentLength"] == path.stat().st_size
    assert head["Metadata"]["sha256"] == landing.sha256_file(path)
    assert _body(s3_settings, key) == path.read_bytes()
    again = landing.land(s3_settings, landing.plan(tmp_path))
    assert again.unchanged == [key] and again.uploaded == []
