"""Landing under ordinary faults, against the real emulator: producers racing for one key, files
that change while they go up, links and hidden names refused before any upload."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ecomdwh import aws, landing
from ecomdwh.errors import UserError
from ecomdwh.settings import Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

DAY = "shop/orders/ingest_date=2026-03-02"
REFUSAL = "already landed with different content and bronze is immutable; land the new data under a new file name"


def _orders(root: Path, name: str, producer: str, rows: int = 50) -> Path:
    lines = [
        json.dumps({"order_id": f"{producer}-{i}", "customer_id": "C1", "order_ts": "2026-03-02T09:00:00Z"})
        for i in range(rows)
    ]
    path = root / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _body(settings: Settings, key: str) -> bytes:
    return aws.s3(settings).get_object(Bucket=settings.raw_bucket, Key=key)["Body"].read()


def _keys(settings: Settings) -> list[str]:
    listing = aws.s3(settings).list_objects_v2(Bucket=settings.raw_bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def _race(settings: Settings, pairs: list[tuple[Path, Path]]) -> list[tuple[object, object]]:
    """Land each pair's two files at the same moment, every pair at once; each landing's result or error."""

    def one(path: Path, barrier: threading.Barrier):
        files = landing.plan(path.parents[3], "2026-03-02")
        files = [f for f in files if f.path == path]
        barrier.wait()
        try:
            return landing.land(settings, files)
        except UserError as exc:
            return exc

    with ThreadPoolExecutor(2 * len(pairs)) as pool:
        futures = []
        for a, b in pairs:
            barrier = threading.Barrier(2)
            futures.append((pool.submit(one, a, barrier), pool.submit(one, b, barrier)))
        return [(fa.result(timeout=120), fb.result(timeout=120)) for fa, fb in futures]


@pytest.fixture
def refused_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys whose conditional write the emulator answered 412: taken after our check, caught by the write."""
    keys: list[str] = []
    uploading = threading.local()
    real_head, real_land_one = landing._landed_sha256, landing._land_one

    def head(s3, bucket, key):
        if getattr(uploading, "on", False):  # inside _land_one a head follows only a 412
            keys.append(key)
        return real_head(s3, bucket, key)

    def land_one(*args):
        uploading.on = True
        try:
            return real_land_one(*args)
        finally:
            uploading.on = False

    monkeypatch.setattr(landing, "_landed_sha256", head)
    monkeypatch.setattr(landing, "_land_one", land_one)
    return keys


@pytest.mark.parametrize("round_", range(3))
def test_two_producers_racing_with_different_bytes_one_wins_each_key(
    tmp_path: Path, s3_settings: Settings, refused_writes: list[str], round_: int
):
    pairs = [
        (_orders(tmp_path / "a", f"orders-{i:02d}.jsonl", "A"), _orders(tmp_path / "b", f"orders-{i:02d}.jsonl", "B"))
        for i in range(20)
    ]
    for (a, b), (ra, rb) in zip(pairs, _race(s3_settings, pairs), strict=True):
        key = f"{DAY}/{a.name}"
        won = [r for r in (ra, rb) if isinstance(r, landing.LandingResult)]
        lost = [r for r in (ra, rb) if isinstance(r, UserError)]
        assert len(won) == 1 and len(lost) == 1, (key, ra, rb)
        assert won[0].uploaded == [key]
        assert isinstance(lost[0], landing.LandingRefused) and lost[0].conflicts == [key]
        assert REFUSAL in str(lost[0])
        winner = a if won[0] is ra else b
        assert _body(s3_settings, key) == winner.read_bytes()
    assert refused_writes, "no race reached the write itself: the test proved only the pre-check"


def test_two_producers_racing_with_the_same_bytes_both_succeed(tmp_path: Path, s3_settings: Settings):
    pairs = []
    for i in range(20):
        a = _orders(tmp_path / "a", f"orders-{i:02d}.jsonl", "same")
        b = tmp_path / "b" / DAY / a.name
        b.parent.mkdir(parents=True, exist_ok=True)
        b.write_bytes(a.read_bytes())
        pairs.append((a, b))
    for (a, _), results in zip(pairs, _race(s3_settings, pairs), strict=True):
        key = f"{DAY}/{a.name}"
        assert all(isinstance(r, landing.LandingResult) for r in results), results
        assert sorted(len(r.uploaded) for r in results) == [0, 1]
        assert sorted(len(r.unchanged) for r in results) == [0, 1]
        assert _body(s3_settings, key) == a.read_bytes()


@pytest.fixture(params=["whole", "parts"])
def upload_path(request, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "parts":
        monkeypatch.setattr(landing, "MULTIPART_THRESHOLD", 0)  # a one-part multipart upload, small files
    return request.param


def test_a_rival_landing_between_check_and_write_is_caught_by_the_write(
    tmp_path: Path, s3_settings: Settings, monkeypatch: pytest.MonkeyPatch, upload_path: str
):
    ours = _orders(tmp_path / "ours", "orders-1.jsonl", "ours")
    theirs = _orders(tmp_path / "theirs", "orders-1.jsonl", "theirs")
    same = _orders(tmp_path / "same", "orders-2.jsonl", "same")
    _orders(tmp_path / "ours", "orders-2.jsonl", "same")
    real_land_one = landing._land_one

    def rival_first(s3, bucket, f, digest):
        # The other producer lands the same names after our check passed, before our write.
        rival = {"orders-1.jsonl": theirs, "orders-2.jsonl": same}[f.path.name]
        real_land_one(s3, bucket, landing.LandingFile(rival, f.entity, f.ingest_date), landing.sha256_file(rival))
        return real_land_one(s3, bucket, f, digest)

    monkeypatch.setattr(landing, "_land_one", rival_first)
    with pytest.raises(landing.LandingRefused) as err:
        landing.land(s3_settings, landing.plan(tmp_path / "ours"))
    key = f"{DAY}/orders-1.jsonl"
    assert err.value.conflicts == [key] and REFUSAL in str(err.value)
    assert err.value.result.unchanged == [f"{DAY}/orders-2.jsonl"] and err.value.result.uploaded == []
    assert _body(s3_settings, key) == theirs.read_bytes() != ours.read_bytes()
    assert not aws.s3(s3_settings).list_multipart_uploads(Bucket=s3_settings.raw_bucket).get("Uploads")


def test_a_file_that_changes_during_its_upload_is_not_stored(
    tmp_path: Path, s3_settings: Settings, monkeypatch: pytest.MonkeyPatch, upload_path: str
):
    if upload_path == "whole" and s3_settings.emulator_backend == "moto":
        pytest.skip("moto 5.2.5 does not check x-amz-checksum-sha256; S3 and LocalStack do")
    path = _orders(tmp_path, "orders-1.jsonl", "A")
    _orders(tmp_path, "orders-2.jsonl", "A")
    real_land_one = landing._land_one

    def still_writing(s3, bucket, f, digest):
        if f.path == path:
            with path.open("a") as fh:  # the producer appends after the checksum was taken
                fh.write('{"order_id": "late"}\n')
        return real_land_one(s3, bucket, f, digest)

    monkeypatch.setattr(landing, "_land_one", still_writing)
    with pytest.raises(landing.LandingRefused, match="changed while being landed") as err:
        landing.land(s3_settings, landing.plan(tmp_path))
    assert err.value.changed == [f"{DAY}/orders-1.jsonl"] and "were uploaded" in str(err.value)
    assert _keys(s3_settings) == [f"{DAY}/orders-2.jsonl"]
    assert not aws.s3(s3_settings).list_multipart_uploads(Bucket=s3_settings.raw_bucket).get("Uploads")
    # Landing again once the file is complete lands it whole.
    monkeypatch.setattr(landing, "_land_one", real_land_one)
    again = landing.land(s3_settings, landing.plan(tmp_path))
    assert again.uploaded == [f"{DAY}/orders-1.jsonl"] and _body(s3_settings, again.uploaded[0]) == path.read_bytes()


def test_the_stored_sha256_is_the_stored_bytes(tmp_path: Path, s3_settings: Settings, upload_path: str):
    path = _orders(tmp_path, "orders-1.jsonl", "A")
    landing.land(s3_settings, landing.plan(tmp_path))
    head = aws.s3(s3_settings).head_object(Bucket=s3_settings.raw_bucket, Key=f"{DAY}/orders-1.jsonl")
    assert head["Metadata"]["sha256"] == landing.sha256_file(path)
    assert head["ETag"].strip('"').endswith("-1") == (upload_path == "parts")
    with pytest.raises(ClientError) as err:  # the emulator answers a conditional write of a taken key with 412
        aws.s3(s3_settings).put_object(
            Bucket=s3_settings.raw_bucket, Key=f"{DAY}/orders-1.jsonl", Body=b"x", IfNoneMatch="*"
        )
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_symbolic_link_refuses_the_landing_and_nothing_is_uploaded(
    tmp_path: Path, s3_settings: Settings, emulator_env: dict[str, str], kind: str
):
    root = tmp_path / "landing"
    _orders(root, "orders-1.jsonl", "A")
    outside = tmp_path / "outside"
    secret = _orders(outside, "secret.jsonl", "S")
    if kind == "file":
        link = root / DAY / "orders-2.jsonl"
        link.symlink_to(secret)
    else:
        link = root / "payments" / "payments"
        link.parent.mkdir(parents=True)
        link.symlink_to(outside / "shop" / "orders", target_is_directory=True)
    result = run_cli("land", str(root), env={**emulator_env, "ECOMDWH_ENV": s3_settings.env})
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert f"{link.relative_to(root)} is a symbolic link" in out and "nothing was uploaded" in out
    assert "Traceback" not in result.stdout + result.stderr
    assert _keys(s3_settings) == []


def test_a_hidden_name_in_a_day_folder_refuses_the_landing(
    tmp_path: Path, s3_settings: Settings, emulator_env: dict[str, str]
):
    _orders(tmp_path, "orders-1.jsonl", "A")
    _orders(tmp_path, "_late.jsonl", "A")
    result = run_cli("land", str(tmp_path), env={**emulator_env, "ECOMDWH_ENV": s3_settings.env})
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert f"{DAY}/_late.jsonl starts with _: names starting with _ or . are hidden from Spark and Glue" in out
    assert _keys(s3_settings) == []
