"""`ecomdwh stream`: shipment events and payments from the generator's world, sent as a stream.

A producer puts one JSON object per record to a delivery per bronze entity. Two deliveries share
that interface:

- `FirehoseDelivery` (on AWS): PutRecordBatch to the Kinesis Data Firehose streams terraform's
  `streaming` module creates; Firehose buffers, appends the line end, gzips and writes
  `<source>/<entity>/ingest_date=<UTC day of arrival>/<stream>-1-<time>-<id>.jsonl.gz`.
- `LocalDelivery` (offline): a stand-in for those streams that buffers records the way they do
  (size or interval, per stream) and writes the same objects under the same keys into the raw
  bucket of the emulator. Neither LocalStack 4.13.1 (its Firehose needs amazon_kclpy) nor moto
  5.2.5 (no prefix expressions, compression, extension or delimiter) delivers this layout here.

The world's clock drives the local delivery: a record arrives when its event happens (on the
landing day the batch generator gives it), or one or two days later for the `late_share` of
events that arrive late. On AWS, Firehose stamps records with its own clock instead.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from ecomdwh.bronze_files import gzip_bytes, jsonl_line
from ecomdwh.contract import ENTITIES, Entity, bronze_key
from ecomdwh.errors import UserError

DAY = 86_400
# The entities that arrive as events rather than daily exports, and the column that dates each event.
STREAMED = {"shipment_events": "status_ts", "payments": "paid_at"}
FILE_EXTENSION = ".jsonl.gz"
# Firehose's defaults in terraform/modules/streaming: 64 MiB (uncompressed) or 300 s, whichever comes first.
BUFFER_BYTES = 64 * 1024 * 1024
BUFFER_SECONDS = 300
# PutRecordBatch takes at most 500 records and 4 MiB per call.
BATCH_RECORDS = 500
BATCH_BYTES = 4 * 1024 * 1024
_PUT_ATTEMPTS = 5


@dataclass(frozen=True)
class StreamRecord:
    entity: Entity
    arrival: int  # UTC seconds when the record reaches the stream (Firehose's approximate arrival timestamp)
    data: dict
    late: bool = False  # arrives on a later day than its event's own landing day


def stream_name(project: str, env: str, entity: Entity) -> str:
    """The delivery stream of an entity: <project>-<env>-<source>-<entity>, underscores as dashes."""
    return f"{project}-{env}-{entity.source}-{entity.name}".replace("_", "-")


def _seconds(iso_texts: np.ndarray) -> np.ndarray:
    return np.char.rstrip(iso_texts.astype(str), "Z").astype("datetime64[s]").astype(np.int64)


def world_records(
    seed: int,
    days: int,
    orders_per_day: int,
    start_date: date,
    late_share: float = 0.0,
    entities: Iterable[str] = tuple(STREAMED),
) -> list[StreamRecord]:
    """The streamed entities' rows of the world `ecomdwh generate` builds from the same arguments, in
    arrival order. Generated without bad rows: what a source system sends, not a damaged export."""
    from ecomdwh.generator.world import epoch, simulate

    if not 0 <= late_share <= 1:
        raise ValueError("--late-share must be between 0 and 1")
    names = list(entities)
    unknown = [n for n in names if n not in STREAMED]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: only {' and '.join(STREAMED)} are streamed")
    rng_world, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    world = simulate(rng_world, start_date, days, orders_per_day)
    rng_late = np.random.default_rng([seed, days, orders_per_day, 19])
    t0 = epoch(start_date)
    records: list[StreamRecord] = []
    for name in names:
        entity, table = ENTITIES[name], world.tables[name]
        event = _seconds(table.columns[STREAMED[name]])
        # On its landing day at the event's time of day: an event never arrives before its order's day.
        arrival = event + (table.day - (event - t0) // DAY) * DAY
        can_be_late = table.day < days - 1
        late = can_be_late & (rng_late.random(len(table)) < late_share)
        shift = np.minimum(rng_late.integers(1, 3, len(table)), days - 1 - table.day)
        arrival = np.where(late, t0 + (table.day + shift) * DAY + rng_late.integers(0, DAY, len(table)), arrival)
        columns = {c: table.columns[c].tolist() for c in entity.column_names}
        for i in range(len(table)):
            data = {c: columns[c][i] for c in entity.column_names}
            records.append(StreamRecord(entity, int(arrival[i]), data, bool(late[i])))
    records.sort(key=lambda r: r.arrival)  # stable: within a second, table order
    return records


def object_key(entity: Entity, stream: str, first_arrival: int, suffix: str) -> str:
    """Where Firehose puts an object: the entity's prefix with the UTC day of the oldest record's arrival
    (its `!{timestamp:yyyy-MM-dd}`), then <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id><extension>."""
    when = datetime.fromtimestamp(first_arrival, UTC)
    return bronze_key(entity, f"{when:%Y-%m-%d}", f"{stream}-1-{when:%Y-%m-%d-%H-%M-%S}-{suffix}{FILE_EXTENSION}")


@dataclass
class _Buffer:
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    first: int = 0


class LocalDelivery:
    """The Firehose streams' behaviour, offline: per stream, records are buffered (with the line end
    the stream's delimiter processor appends) until `buffer_bytes` of them are held or `buffer_seconds`
    passed since the first one arrived, then written as one gzip JSON Lines object by `write(key, body)`.
    Time is the records' arrival time; `flush()` writes whatever is held (the end of a run, Ctrl-C)."""

    def __init__(
        self,
        write: Callable[[str, bytes], None],
        stream_names: dict[str, str],
        buffer_bytes: int = BUFFER_BYTES,
        buffer_seconds: int = BUFFER_SECONDS,
        new_suffix: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._write = write
        self._names = stream_names
        self._buffer_bytes = buffer_bytes
        self._buffer_seconds = buffer_seconds
        self._new_suffix = new_suffix
        self._buffers: dict[str, _Buffer] = {}
        self.objects: list[str] = []

    def put(self, record: StreamRecord) -> None:
        self._expire(record.arrival)
        buffer = self._buffers.setdefault(record.entity.name, _Buffer())
        if not buffer.lines:
            buffer.first = record.arrival
        line = jsonl_line(record.data).encode("utf-8") + b"\n"
        buffer.lines.append(line)
        buffer.size += len(line)
        if buffer.size >= self._buffer_bytes:
            self._deliver(record.entity.name)

    def _expire(self, now: int) -> None:
        for name, buffer in list(self._buffers.items()):
            if buffer.lines and now - buffer.first >= self._buffer_seconds:
                self._deliver(name)

    def _deliver(self, name: str) -> None:
        buffer = self._buffers.pop(name)
        entity = ENTITIES[name]
        key = object_key(entity, self._names[name], buffer.first, self._new_suffix())
        self._write(key, gzip_bytes(b"".join(buffer.lines)))
        self.objects.append(key)

    def flush(self) -> None:
        for name in [n for n, b in self._buffers.items() if b.lines]:
            self._deliver(name)


class FirehoseDelivery:
    """PutRecordBatch to the entities' delivery streams: up to 500 records or 4 MiB a call, sent when
    full or a second after the first record waiting; records the service rejects are sent again."""

    def __init__(
        self,
        client,
        stream_names: dict[str, str],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._names = stream_names
        self._clock = clock
        self._sleep = sleep
        self._pending: dict[str, list[bytes]] = {}
        self._since: dict[str, float] = {}
        self.objects: list[str] = []  # Firehose names its objects itself

    def put(self, record: StreamRecord) -> None:
        name = record.entity.name
        pending = self._pending.setdefault(name, [])
        data = jsonl_line(record.data).encode("utf-8")  # the stream appends the line end
        if pending and (len(pending) >= BATCH_RECORDS or sum(map(len, pending)) + len(data) > BATCH_BYTES):
            self._send(name)
            pending = self._pending.setdefault(name, [])
        if not pending:
            self._since[name] = self._clock()
        pending.append(data)
        for other in list(self._pending):
            if self._pending[other] and self._clock() - self._since[other] >= 1.0:
                self._send(other)

    def _send(self, name: str) -> None:
        records = self._pending.pop(name, [])
        for attempt in range(_PUT_ATTEMPTS):
            if not records:
                return
            answer = self._client.put_record_batch(
                DeliveryStreamName=self._names[name], Records=[{"Data": d} for d in records]
            )
            if not answer.get("FailedPutCount"):
                return
            records = [d for d, r in zip(records, answer["RequestResponses"], strict=True) if r.get("ErrorCode")]
            self._sleep(0.2 * 2**attempt)
        raise UserError(
            f"Firehose stream {self._names[name]} rejected {len(records)} record(s) {_PUT_ATTEMPTS} times; "
            "check the stream's state and throughput limits, then run again."
        )

    def flush(self) -> None:
        for name in list(self._pending):
            self._send(name)


@dataclass
class StreamResult:
    records: Counter[str] = field(default_factory=Counter)
    late: int = 0
    objects: list[str] = field(default_factory=list)
    interrupted: bool = False


def produce(
    records: list[StreamRecord],
    delivery: LocalDelivery | FirehoseDelivery,
    rate: float = 0.0,
    seconds: float | None = None,
    limit: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StreamResult:
    """Send `records` in order, at most `rate` a second (0: as fast as the delivery takes them), until
    they run out, `limit` were sent or `seconds` passed. Ctrl-C stops it; the buffers are flushed
    either way, so every record sent is delivered."""
    result = StreamResult()
    started = clock()
    try:
        for i, record in enumerate(records):
            if limit is not None and i >= limit:
                break
            if rate > 0:
                due = started + i / rate
                if seconds is not None and due - started >= seconds:
                    break
                if due > clock():
                    sleep(due - clock())
            if seconds is not None and clock() - started >= seconds:
                break
            delivery.put(record)
            result.records[record.entity.name] += 1
            result.late += record.late
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        delivery.flush()
        result.objects = list(delivery.objects)
    return result


def s3_writer(settings) -> Callable[[str, bytes], None]:
    """Put objects into the raw bucket, as Firehose does (refuses when the bucket is missing)."""
    from botocore.exceptions import ClientError

    from ecomdwh import aws

    s3 = aws.s3(settings)
    try:
        s3.head_bucket(Bucket=settings.raw_bucket)
    except ClientError as exc:
        raise UserError(
            f"The raw bucket {settings.raw_bucket} does not exist; `ecomdwh emulator start` creates it locally."
        ) from exc

    def write(key: str, body: bytes) -> None:
        s3.put_object(Bucket=settings.raw_bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    return write


def delivery_for(settings, entities: Iterable[str], buffer_bytes: int, buffer_seconds: int):
    """The local stand-in against the emulator, the Firehose streams on AWS."""
    from ecomdwh import aws

    names = {n: stream_name(settings.project, settings.env, ENTITIES[n]) for n in entities}
    if settings.uses_emulator:
        return LocalDelivery(s3_writer(settings), names, buffer_bytes, buffer_seconds)
    return FirehoseDelivery(aws.client("firehose", settings), names)
