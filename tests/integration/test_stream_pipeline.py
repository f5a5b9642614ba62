"""Streamed bronze through the whole pipeline: `ecomdwh stream`'s local delivery -> the Glue jobs with their
bookmarks -> the warehouse -> gold, in two rounds, with re-sent records and late events."""

from __future__ import annotations

import gzip
import re
import shutil
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ecomdwh import aws, dbt_runner, landing, streaming, warehouse
from ecomdwh.contract import ENTITIES
from ecomdwh.generator import generate
from ecomdwh.settings import Settings
from ecomdwh.warehouse.load import load
from glue_local.runtime import runner

pytestmark = [pytest.mark.integration]

DAYS, ORDERS, SEED, START = 5, 15, 13, date(2026, 3, 1)
SECOND_ROUND = int(datetime(2026, 3, 4, tzinfo=UTC).timestamp())  # records arriving from the fourth day on


def canonical(status: str) -> str:
    """The contract's spelling of a status (what the Glue job's cleaning gives)."""
    return re.sub(r"[\s-]+", "_", status.lower())


def latest_status(records: list[streaming.StreamRecord]) -> dict[str, str]:
    """Each order's status with the latest status_ts (ties: the greater status, as gold breaks them)."""
    best: dict[str, tuple[str, str]] = {}
    for r in records:
        if r.entity.name == "shipment_events":
            candidate = (r.data["status_ts"], canonical(r.data["status"]))
            best[r.data["order_id"]] = max(best.get(r.data["order_id"], candidate), candidate)
    return {order: status for order, (_, status) in best.items()}


def gold_status(settings: Settings) -> dict[str, str]:
    con = warehouse.connect(settings, "local", read_only=True)
    try:
        rows = con.execute(
            "select distinct f.order_id, s.shipment_status from gold.fact_order_items f "
            "join gold.dim_shipment_status s on f.shipment_status_key = s.shipment_status_key"
        ).fetchall()
    finally:
        con.close()
    assert len({order for order, _ in rows}) == len(rows), "one shipment status per order"
    return dict(rows)


def stream(settings: Settings, records: list[streaming.StreamRecord]) -> list[str]:
    names = {n: streaming.stream_name(settings.project, settings.env, ENTITIES[n]) for n in streaming.STREAMED}
    delivery = streaming.LocalDelivery(streaming.s3_writer(settings), names, buffer_seconds=1800)
    result = streaming.produce(sorted(records, key=lambda r: r.arrival), delivery)
    assert sum(result.records.values()) == len(records)
    return result.objects


def glue_load_build(spark, settings: Settings, entities: list[str] | None = None) -> dict[str, dict]:
    manifests = {m["entity"]: m for m in runner.run_bronze_to_silver(spark, settings, entities)}
    for m in manifests.values():
        quarantined = sum(m["rows_quarantined"].values())
        assert m["rows_read"] == m["rows_written"] + quarantined + m["rows_deduplicated"], m
    load(settings, "local")
    statuses = dbt_runner.build(settings, "local")
    assert set(statuses) <= {"success", "pass"}, statuses
    return manifests


def keys_read(manifest: dict) -> set[str]:
    return {uri.split("/", 3)[3] for uri in manifest["files_read"]}


def per_entity(keys: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {n: set() for n in streaming.STREAMED}
    for key in keys:
        out[key.split("/")[1]].add(key)
    return out


@pytest.mark.spark
@pytest.mark.slow
def test_streamed_events_reach_gold_exactly_once_and_the_latest_status_time_wins(
    spark, s3_settings: Settings, tmp_path: Path
):
    settings = s3_settings.with_overrides(duckdb_path=tmp_path / "ecomdwh.duckdb")
    # The batch exports (customers, products, orders, items) land as files; events and payments stream.
    bronze = tmp_path / "bronze"
    generate(bronze, days=DAYS, orders_per_day=ORDERS, seed=SEED, bad_rate=0.0, start_date=START)
    for name in streaming.STREAMED:
        shutil.rmtree(bronze / ENTITIES[name].source)
    landing.land(settings, landing.plan(bronze))
    records = streaming.world_records(SEED, DAYS, ORDERS, START, late_share=0.5)
    first = [r for r in records if r.arrival < SECOND_ROUND]
    rest = [r for r in records if r.arrival >= SECOND_ROUND]
    assert first and rest

    # Round one: the first three days of the stream, then the pipeline.
    first_keys = per_entity(stream(settings, first))
    assert any(len({k.split("/")[2] for k in keys}) < len(keys) for keys in first_keys.values()), (
        "several small objects per landing day"
    )
    manifests = glue_load_build(spark, settings)
    for name in streaming.STREAMED:
        sent = sum(r.entity.name == name for r in first)
        m = manifests[name]
        assert keys_read(m) == first_keys[name]
        assert (m["rows_read"], m["rows_written"], m["rows_deduplicated"], m["rows_quarantined"]) == (sent, sent, 0, {})
    round_one, expected = gold_status(settings), latest_status(first)
    assert {o: s for o, s in round_one.items() if o in expected} == {o: expected[o] for o in round_one if o in expected}

    # Round two: the rest, with records a producer sent again (Firehose delivers at least once): some of
    # round one's, re-sent when round two starts, and some of round two's, sent twice.
    again = [replace(r, arrival=rest[0].arrival) for r in first[:6]] + rest[:9]
    second_keys = per_entity(stream(settings, rest + again))
    manifests = glue_load_build(spark, settings, list(streaming.STREAMED))
    for name in streaming.STREAMED:
        m = manifests[name]
        sent = sum(r.entity.name == name for r in rest)
        resent = sum(r.entity.name == name for r in again)
        assert keys_read(m) == second_keys[name], "the bookmark picks up exactly the new objects"
        assert (m["rows_read"], m["rows_written"], m["rows_deduplicated"]) == (sent + resent, sent, resent)
        assert m["rows_quarantined"] == {}

    # Gold: every order's shipment status is its event with the latest status_ts, whenever that arrived.
    gold = gold_status(settings)
    expected = latest_status(records)
    with_events = {o for o in gold if o in expected}
    assert with_events and {o: gold[o] for o in with_events} == {o: expected[o] for o in with_events}
    assert all(s == "unknown" for o, s in gold.items() if o not in expected)
    assert any(gold[o] != s for o, s in round_one.items()), "round two moved some orders on"

    # Late events, as the contract has them: an earlier status landing on a later day than the latest one.
    con = warehouse.connect(settings, "local", read_only=True)
    try:
        rows = con.execute("select order_id, status, status_ts, ingest_date from silver.shipment_events").fetchall()
    finally:
        con.close()
    assert len(rows) == sum(r.entity.name == "shipment_events" for r in records), "each event once in silver"
    by_order: dict[str, list] = {}
    for row in rows:
        by_order.setdefault(row[0], []).append(row)
    overtaken = Counter()
    for order, events in by_order.items():
        winner = max(events, key=lambda e: (e[2], e[1]))
        if any(e[3] > winner[3] for e in events if e is not winner):
            overtaken[order] += 1
            assert order not in gold or gold[order] == winner[1]
    assert overtaken, "the late share makes some earlier statuses land after the latest one"
    assert any(r.late for r in records if r.entity.name == "shipment_events")


def test_the_command_streams_into_the_emulators_raw_bucket(emulator_env, s3_settings: Settings, cli_in_process):
    main = cli_in_process({**emulator_env, "ECOMDWH_ENV": s3_settings.env})
    code, output = main("stream", "--days", "2", "--orders-per-day", "10", "--rate", "0", "--records", "20")
    assert code == 0, output
    s3 = aws.s3(s3_settings)
    keys = [o["Key"] for page in aws.list_pages(s3_settings, s3_settings.raw_bucket) for o in page.get("Contents", [])]
    assert keys and all(k.startswith(("logistics/shipment_events/ingest_date=", "payments/payments/")) for k in keys)
    assert all(k.endswith(".jsonl.gz") for k in keys)
    bodies = [s3.get_object(Bucket=s3_settings.raw_bucket, Key=k)["Body"].read() for k in keys]
    assert sum(len(gzip.decompress(b).splitlines()) for b in bodies) == 20, (output, keys)
    assert "Stopped" not in output and "streamed to" in output
