"""`ecomdwh stream` without S3: the world's records, the local Firehose stand-in's buffering and object
layout, the producer's limits and Ctrl-C, and PutRecordBatch against moto's Firehose."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest

from ecomdwh import landing, streaming
from ecomdwh.bronze_files import read_landing_text
from ecomdwh.contract import ENTITIES
from ecomdwh.errors import UserError
from ecomdwh.generator import generate

START = date(2026, 3, 1)
T0 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
NAMES = {n: streaming.stream_name("ecomdwh", "dev", ENTITIES[n]) for n in streaming.STREAMED}
SHIP, PAY = ENTITIES["shipment_events"], ENTITIES["payments"]


def record(entity, arrival: int, i: int) -> streaming.StreamRecord:
    if entity is SHIP:
        data = {"shipment_id": f"SH{i}", "order_id": f"O{i}", "carrier": "dhl", "status": "pending",
                "status_ts": datetime.fromtimestamp(arrival, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    else:
        data = {"payment_id": f"PAY{i}", "order_id": f"O{i}", "payment_method": "card", "amount": "1.00",
                "status": "captured", "paid_at": "2026-03-01T00:00:00Z"}  # fmt: skip
    return streaming.StreamRecord(entity, arrival, data)


def delivery(**kwargs) -> tuple[streaming.LocalDelivery, dict[str, bytes]]:
    written: dict[str, bytes] = {}

    def write(key: str, body: bytes) -> None:
        assert key not in written, f"{key} written twice"
        written[key] = body

    return streaming.LocalDelivery(write, NAMES, **kwargs), written


def lines(body: bytes) -> list[dict]:
    text = gzip.decompress(body).decode("utf-8")
    assert text.endswith("\n") and "\n\n" not in text, "JSON Lines: one object a line, each ended"
    return [json.loads(line) for line in text.splitlines()]


def test_an_object_is_written_when_the_interval_has_passed_since_its_first_record():
    sink, written = delivery(buffer_seconds=300)
    for i, offset in enumerate([0, 100, 299, 300, 301, 650]):
        sink.put(record(SHIP, T0 + offset, i))
    # 0, 100, 299 go when 300 arrives; 300, 301 when 650 arrives (>= 300 s after 300); 650 waits for flush.
    assert [len(lines(b)) for b in written.values()] == [3, 2]
    sink.flush()
    assert [len(lines(b)) for b in written.values()] == [3, 2, 1]
    assert [r["shipment_id"] for b in written.values() for r in lines(b)] == [f"SH{i}" for i in range(6)]


def test_an_object_is_written_when_the_buffer_holds_enough_bytes():
    one = len(streaming.jsonl_line(record(SHIP, T0, 0).data)) + 1
    sink, written = delivery(buffer_bytes=3 * one, buffer_seconds=10**9)
    for i in range(7):
        sink.put(record(SHIP, T0 + i, i))
    assert [len(lines(b)) for b in written.values()] == [3, 3]
    sink.flush()
    assert sum(len(lines(b)) for b in written.values()) == 7


def test_each_entity_has_its_own_buffer_and_prefix():
    sink, written = delivery(buffer_seconds=1000)
    for i in range(4):
        sink.put(record(SHIP if i % 2 else PAY, T0 + i, i))
    sink.flush()
    prefixes = Counter(key.rsplit("/", 1)[0] for key in written)
    assert prefixes == {
        "logistics/shipment_events/ingest_date=2026-03-01": 1,
        "payments/payments/ingest_date=2026-03-01": 1,
    }
    for key, body in written.items():
        entity = SHIP if key.startswith("logistics/") else PAY
        assert all(set(r) == set(entity.column_names) for r in lines(body))


def test_the_ingest_date_is_the_day_the_oldest_record_of_the_object_arrived():
    """Firehose's !{timestamp:yyyy-MM-dd}: an object opened before midnight UTC is filed under that day."""
    sink, written = delivery(buffer_seconds=600)
    sink.put(record(SHIP, T0 + 86_400 - 60, 1))  # 23:59 on the 1st
    sink.put(record(SHIP, T0 + 86_400 + 60, 2))  # 00:01 on the 2nd, same object
    sink.put(record(SHIP, T0 + 86_400 + 700, 3))  # the interval is over: a new object, the 2nd
    sink.flush()
    assert [(k.split("/")[2], len(lines(b))) for k, b in written.items()] == [
        ("ingest_date=2026-03-01", 2),
        ("ingest_date=2026-03-02", 1),
    ]
    first = next(iter(written))
    name = first.rsplit("/", 1)[1]
    assert name.startswith("ecomdwh-dev-logistics-shipment-events-1-2026-03-01-23-59-00-")
    assert name.endswith(".jsonl.gz")


def test_delivered_objects_are_landing_files_of_the_contract(tmp_path: Path):
    """Written to a folder, the stand-in's objects pass every rule `ecomdwh land` checks (layout, entity,
    extension, gzip), so the Glue jobs and reconciliation read them like any landing."""
    records = streaming.world_records(3, days=2, orders_per_day=20, start_date=START, late_share=0.2)
    sink, written = delivery(buffer_seconds=900)
    result = streaming.produce(records, sink)
    for key, body in written.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)
    planned = landing.plan(tmp_path)
    assert len(planned) == len(written) == len(result.objects) > 2 * 2  # many small objects per day
    landed = Counter()
    for f in planned:
        landed[f.entity.name] += len(read_landing_text(f.path).splitlines())
    assert landed == result.records == Counter(r.entity.name for r in records)


def test_the_streamed_records_are_the_generators_rows_on_their_landing_days(tmp_path: Path):
    """Same arguments, same world as `ecomdwh generate` (without bad rows): each record once, and an
    on-time record arrives on the landing day the batch export puts it in."""
    truth_dir = tmp_path / "bronze"
    generate(truth_dir, days=3, orders_per_day=25, seed=11, bad_rate=0.0, start_date=START)
    records = streaming.world_records(11, days=3, orders_per_day=25, start_date=START, late_share=0.3)
    for name, entity in (("shipment_events", SHIP), ("payments", PAY)):
        batch = Counter()
        for path in sorted((truth_dir / entity.path).rglob("*.jsonl*")):
            day = path.parent.name.split("=")[1]
            for line in read_landing_text(path).splitlines():
                batch[(day, json.dumps(json.loads(line), sort_keys=True))] += 1
        mine = [r for r in records if r.entity is entity]
        on_time = Counter(
            (datetime.fromtimestamp(r.arrival, UTC).date().isoformat(), json.dumps(r.data, sort_keys=True))
            for r in mine
            if not r.late
        )
        assert on_time <= batch, f"{name}: an on-time record on another day than the batch's"
        assert Counter(row for _, row in batch.elements()) == Counter(json.dumps(r.data, sort_keys=True) for r in mine)
        late = [r for r in mine if r.late]
        assert late, "a late share of 0.3 makes some records late"
        batch_day = {row: day for day, row in batch}
        for r in late:
            arrived = datetime.fromtimestamp(r.arrival, UTC).date().isoformat()
            assert arrived > batch_day[json.dumps(r.data, sort_keys=True)]
    assert [r.arrival for r in records] == sorted(r.arrival for r in records)
    assert all(r.arrival < T0 + 3 * 86_400 for r in records), "nothing arrives after the world's last day"


def test_no_late_share_no_late_records_and_bad_arguments_are_refused():
    assert not any(r.late for r in streaming.world_records(2, 3, 20, START, late_share=0.0))
    with pytest.raises(ValueError, match="late-share"):
        streaming.world_records(2, 3, 20, START, late_share=1.5)
    with pytest.raises(ValueError, match="only shipment_events and payments"):
        streaming.world_records(2, 3, 20, START, entities=["orders"])


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_produce_keeps_the_rate_and_stops_at_the_record_or_time_limit():
    records = [record(SHIP, T0 + i, i) for i in range(50)]
    clock = FakeClock()
    sink, written = delivery()
    result = streaming.produce(records, sink, rate=10, limit=20, clock=clock, sleep=clock.sleep)
    assert result.records["shipment_events"] == 20 and clock.now == pytest.approx(1.9)
    assert sum(len(lines(b)) for b in written.values()) == 20, "the buffer is flushed at the end"

    clock = FakeClock()
    sink, written = delivery()
    result = streaming.produce(records, sink, rate=10, seconds=3, clock=clock, sleep=clock.sleep)
    assert result.records["shipment_events"] == 30
    assert sum(len(lines(b)) for b in written.values()) == 30


def test_ctrl_c_stops_the_producer_and_flushes_what_was_sent():
    records = [record(SHIP, T0 + i, i) for i in range(50)]
    sink, written = delivery()

    class Interrupting(list):
        def __iter__(self):
            for i, r in enumerate(super().__iter__()):
                if i == 13:
                    raise KeyboardInterrupt
                yield r

    result = streaming.produce(Interrupting(records), sink)
    assert result.interrupted
    assert result.records["shipment_events"] == 13
    assert [r["shipment_id"] for b in written.values() for r in lines(b)] == [f"SH{i}" for i in range(13)]


@pytest.fixture
def moto_firehose(monkeypatch: pytest.MonkeyPatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        firehose = boto3.client("firehose", region_name="us-east-1")
        for stream in NAMES.values():
            firehose.create_delivery_stream(
                DeliveryStreamName=stream,
                DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "BucketARN": "arn:aws:s3:::raw",
                    "Prefix": f"{stream}/",
                },
            )
        yield firehose, s3


def test_firehose_delivery_sends_batches_of_at_most_500_records(moto_firehose):
    """moto 5.2.5's Firehose takes the real PutRecordBatch calls (it writes each call's records as one
    object, without the stream's prefix expressions, delimiter, compression or extension)."""
    firehose, s3 = moto_firehose
    calls = Counter()
    real = firehose.put_record_batch

    def counting(**kwargs):
        calls[kwargs["DeliveryStreamName"]] += 1
        assert len(kwargs["Records"]) <= streaming.BATCH_RECORDS
        return real(**kwargs)

    firehose.put_record_batch = counting
    sink = streaming.FirehoseDelivery(firehose, NAMES, clock=lambda: 0.0)
    records = [record(SHIP, T0 + i, i) for i in range(1201)] + [record(PAY, T0, 1)]
    result = streaming.produce(records, sink)
    assert calls == {NAMES["shipment_events"]: 3, NAMES["payments"]: 1}
    assert result.records == {"shipment_events": 1201, "payments": 1}
    bodies = [
        s3.get_object(Bucket="raw", Key=o["Key"])["Body"].read() for o in s3.list_objects_v2(Bucket="raw")["Contents"]
    ]
    sent = b"".join(bodies)
    assert sent.count(b'"shipment_id"') == 1201 and sent.count(b'"payment_id"') == 1


def test_records_firehose_rejects_are_sent_again_then_the_producer_gives_up():
    class Flaky:
        def __init__(self, failures: int) -> None:
            self.failures = failures
            self.sent: list[bytes] = []

        def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803 - boto3's names
            answers = []
            for i, r in enumerate(Records):
                failed = self.failures > 0 and i == 0
                self.failures -= failed
                answers.append({"ErrorCode": "ServiceUnavailableException"} if failed else {"RecordId": "x"})
                if not failed:
                    self.sent.append(r["Data"])
            return {"FailedPutCount": sum("ErrorCode" in a for a in answers), "RequestResponses": answers}

    client = Flaky(failures=2)
    sink = streaming.FirehoseDelivery(client, NAMES, clock=lambda: 0.0, sleep=lambda _s: None)
    streaming.produce([record(SHIP, T0 + i, i) for i in range(3)], sink)
    assert sorted(client.sent) == sorted(streaming.jsonl_line(record(SHIP, T0 + i, i).data).encode() for i in range(3))

    waits: list[float] = []
    sink = streaming.FirehoseDelivery(Flaky(failures=100), NAMES, clock=lambda: 0.0, sleep=waits.append)
    with pytest.raises(UserError, match="rejected 1 record"):
        streaming.produce([record(SHIP, T0, 0)], sink)
    assert len(waits) == streaming._PUT_ATTEMPTS and waits == sorted(waits), "backs off between attempts"


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--late-share", "2"], "--late-share must be between 0 and 1."),
        (["--entity", "orders"], "orders: only shipment_events and payments are streamed."),
        (["--rate", "-1"], "--rate, --records and --seconds cannot be negative."),
        ([], "does not answer"),  # nothing listens at the scratch endpoint
    ],
)
def test_the_command_refuses_in_one_sentence(tmp_path: Path, cli_in_process, args: list[str], sentence: str):
    from tests.conftest import scratch_env

    main = cli_in_process(scratch_env(tmp_path, "stream"))
    code, output = main("stream", "--days", "1", "--orders-per-day", "5", *args)
    assert code == 1
    assert sentence in output and "Traceback" not in output
