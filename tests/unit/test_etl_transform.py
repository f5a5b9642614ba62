"""bronze_to_silver.transform on small DataFrames: one rule per case, dedup, conflicts, counts."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest

from ecomdwh.contract import ENTITIES
from glue_local.etl import bronze_to_silver as b2s

pytestmark = pytest.mark.spark

CUSTOMER_HEADER = ",".join(ENTITIES["customers"].column_names)
GOOD_CUSTOMER = 'C1, Ann@Example.COM ,Ann,Lee,"Porto, Norte",PT-13,pt,Consumer,2026-03-01,2026-03-01T10:00:00Z'


def lines_df(spark, rows: list[tuple[str, str, str]]):
    """rows of (file, ingest_date, line) -> the numbered-lines shape transform() takes."""
    numbered, counters = [], {}
    for file, day, line in rows:
        counters[file] = counters.get(file, 0) + 1
        numbered.append((file, day, counters[file], line))
    return spark.createDataFrame(numbered, "source_file string, ingest_date string, source_line int, raw_line string")


def item(order_item_id="I1", quantity=2, unit_price="10.00", discount="1.00", **extra) -> str:
    record = {"order_item_id": order_item_id, "order_id": "O1", "product_id": "P1", "quantity": quantity,
              "unit_price": unit_price, "discount_amount": discount, **extra}  # fmt: skip
    return json.dumps(record)


def run(spark, entity: str, rows, existing=None) -> b2s.BatchResult:
    return b2s.transform(spark, ENTITIES[entity], lines_df(spark, rows), existing, "jr_test")


def test_clean_csv_row_is_normalised_and_typed(spark):
    result = run(spark, "customers", [("c.csv", "2026-03-01", CUSTOMER_HEADER), ("c.csv", "2026-03-01", GOOD_CUSTOMER)])
    [row] = result.silver.collect()
    assert (row.email, row.country, row.segment, row.city) == ("ann@example.com", "PT", "consumer", "Porto, Norte")
    assert str(row.updated_at) == "2026-03-01 10:00:00" and str(row.signup_date) == "2026-03-01"
    assert result.rows_read == 1 and result.rows_written == 1


ORDER_ITEM_RULES = [
    ('{"order_item_id": "I1", "ord', "unparseable_row"),
    (item(order_item_id=""), "missing_field"),
    (item(quantity=None), "missing_field"),
    (item(quantity="two"), "wrong_type"),
    (item(quantity=1.5), "wrong_type"),
    (item(unit_price="abc"), "wrong_type"),
    (item(unit_price="12.345"), "money_precision"),
    (item(quantity=0), "non_positive_quantity"),
    (item(quantity=-3), "non_positive_quantity"),
    (item(unit_price="-1.00"), "negative_amount"),
    (item(discount="-0.50"), "negative_amount"),
    (item(quantity=1, unit_price="1.00", discount="1.01"), "negative_line_amount"),
]


@pytest.fixture(scope="module")
def order_item_rules(spark) -> tuple[b2s.BatchResult, dict]:
    """Every rule's line in a file of its own, through one transform: a rejected row is judged alone (rows that
    break a rule are never deduplicated against each other), so one batch decides each case as its own would."""
    rows = [(f"i{n}.jsonl", "2026-03-01", line) for n, (line, _) in enumerate(ORDER_ITEM_RULES)]
    result = run(spark, "order_items", rows)
    return result, {q.source_file: q for q in result.quarantine.collect()}


@pytest.mark.parametrize(("case", "line", "reason"), [(n, *rule) for n, rule in enumerate(ORDER_ITEM_RULES)])
def test_each_order_item_rule_quarantines_with_its_reason(order_item_rules, case: int, line: str, reason: str):
    q = order_item_rules[1][f"i{case}.jsonl"]
    assert (q.reason, q.raw_line, q.source_line, q.ingest_date) == (reason, line, 1, "2026-03-01")


def test_the_order_item_rules_write_nothing_and_count_each_reason(order_item_rules):
    result, quarantined = order_item_rules
    assert result.rows_read == len(quarantined) == len(ORDER_ITEM_RULES) and result.rows_written == 0
    assert result.rows_quarantined == dict(Counter(reason for _, reason in ORDER_ITEM_RULES))


GOOD_EVENT = {"shipment_id": "S1", "order_id": "O1", "carrier": "dhl", "status": "In-Transit",
              "status_ts": "2026-03-01T10:00:00Z"}  # fmt: skip
SHIPMENT_EVENT_RULES = [
    ({"status_ts": "2026-03-01 10:00:00"}, "bad_timestamp"),
    ({"status_ts": "2026-02-30T10:00:00Z"}, "bad_timestamp"),
    ({"status_ts": "yesterday"}, "bad_timestamp"),
    ({"status": "teleported"}, "unknown_domain_value"),
    ({"shipment_id": None}, "missing_field"),
]


@pytest.fixture(scope="module")
def shipment_event_rules(spark) -> dict[str, str]:
    """Each rule's event in a file of its own, through one transform (as the order item rules): reason by file."""
    rows = [(f"s{n}.jsonl", "2026-03-01", json.dumps({**GOOD_EVENT, **record})) for n, (record, _) in
            enumerate(SHIPMENT_EVENT_RULES)]  # fmt: skip
    result = run(spark, "shipment_events", rows)
    assert result.rows_written == 0
    return {q.source_file: q.reason for q in result.quarantine.collect() if q.source_line == 1}


@pytest.mark.parametrize(("case", "reason"), [(n, reason) for n, (_, reason) in enumerate(SHIPMENT_EVENT_RULES)])
def test_shipment_event_rules(shipment_event_rules, case: int, reason: str):
    assert shipment_event_rules[f"s{case}.jsonl"] == reason
    assert len(shipment_event_rules) == len(SHIPMENT_EVENT_RULES)  # one row each, none lost


def test_missing_discount_means_zero_and_enum_spelling_is_canonical(spark):
    line = json.dumps({"order_item_id": "I1", "order_id": "O1", "product_id": "P1", "quantity": "3", "unit_price": 2.5})
    [row] = run(spark, "order_items", [("i.jsonl", "2026-03-01", line)]).silver.collect()
    assert (row.quantity, str(row.unit_price), str(row.discount_amount)) == (3, "2.50", "0.00")
    event = {"shipment_id": "S1", "order_id": "O1", "status": " In-Transit ", "status_ts": "2026-03-01T10:00:00Z"}
    [ev] = run(spark, "shipment_events", [("s.jsonl", "2026-03-01", json.dumps(event))]).silver.collect()
    assert ev.status == "in_transit"


def test_immutable_entity_first_row_wins_later_conflicts_quarantined(spark):
    rows = [
        ("b.jsonl", "2026-03-02", item(quantity=5)),  # a later day: conflicts with the first row seen
        ("a.jsonl", "2026-03-01", item(quantity=2)),
        ("a.jsonl", "2026-03-01", item(quantity=2)),  # exact duplicate
    ]
    result = run(spark, "order_items", rows)
    [kept] = result.silver.collect()
    assert (kept.quantity, kept.source_file) == (2, "a.jsonl")
    assert (result.rows_written, result.rows_deduplicated, result.rows_quarantined) == (1, 1, {"conflicting_key": 1})


@pytest.fixture(params=["whole", "by_keys"])
def history_read(request, monkeypatch):
    """The committed history joined whole (a small one) or read for the batch's keys only (a large one)."""
    monkeypatch.setattr(b2s, "HISTORY_BROADCAST_BELOW_BYTES", 1 << 62 if request.param == "whole" else 0)
    return request.param


def test_against_silver_same_content_is_duplicate_different_is_conflict(spark, history_read):
    first = run(spark, "order_items", [("a.jsonl", "2026-03-01", item(quantity=2))])
    existing = first.silver
    again = run(
        spark,
        "order_items",
        [("b.jsonl", "2026-03-02", item(quantity=2)), ("b.jsonl", "2026-03-02", item(quantity=9))],
        existing,
    )
    assert (again.rows_written, again.rows_deduplicated, again.rows_quarantined) == (0, 1, {"conflicting_key": 1})


def test_versioned_entity_keeps_history_and_drops_exact_copies(spark):
    later = GOOD_CUSTOMER.replace("Consumer", "vip").replace("10:00:00Z", "12:00:00Z")
    rows = [("c.csv", "2026-03-01", CUSTOMER_HEADER)] + [
        ("c.csv", "2026-03-01", line) for line in (GOOD_CUSTOMER, later, GOOD_CUSTOMER)
    ]
    result = run(spark, "customers", rows)
    assert sorted(r.segment for r in result.silver.collect()) == ["consumer", "vip"]
    assert (result.rows_read, result.rows_written, result.rows_deduplicated) == (3, 2, 1)


def test_versioned_entity_against_silver_by_version_and_content(spark, history_read):
    later = GOOD_CUSTOMER.replace("Consumer", "vip").replace("10:00:00Z", "12:00:00Z")
    first = run(spark, "customers", [("c.csv", "2026-03-01", CUSTOMER_HEADER), ("c.csv", "2026-03-01", GOOD_CUSTOMER)])
    other = GOOD_CUSTOMER.replace("C1", "C9")  # in silver, not in the batch
    silver = first.silver.unionByName(run(spark, "customers", [("o.csv", "2026-03-01", CUSTOMER_HEADER),
                                                               ("o.csv", "2026-03-01", other)]).silver)  # fmt: skip
    changed_same_version = GOOD_CUSTOMER.replace("Ann,Lee", "Ann,Smith")
    batch = [("d.csv", "2026-03-02", CUSTOMER_HEADER)] + [
        ("d.csv", "2026-03-02", line)
        for line in (GOOD_CUSTOMER, changed_same_version, later, GOOD_CUSTOMER.replace("C1", "C2"))
    ]
    again = run(spark, "customers", batch, silver.select(*b2s.identity_columns(ENTITIES["customers"])))
    assert (again.rows_written, again.rows_deduplicated, again.rows_quarantined) == (2, 1, {"conflicting_version": 1})
    assert sorted((r.customer_id, r.segment) for r in again.silver.collect()) == [("C1", "vip"), ("C2", "consumer")]
    again.release()


def test_the_history_is_read_for_the_batch_keys_only(spark):
    history = spark.createDataFrame([(f"I{i}", f"h{i}") for i in range(100)], "order_item_id string, row_hash string")
    batch = spark.createDataFrame([("I3",), ("I7",), ("I3",), ("X1",)], "order_item_id string")
    needed = b2s.history_of_keys(history, batch, ["order_item_id"])
    assert sorted(r.order_item_id for r in needed.collect()) == ["I3", "I7"]
    # The batch's keys are broadcast and the history streamed past them: no shuffle or sort of the history.
    plan = needed._jdf.queryExecution().executedPlan().toString()
    assert "BroadcastHashJoin" in plan and "LeftSemi" in plan and "SortMergeJoin" not in plan


def _parquet_rows_scanned(df) -> int:
    """Rows the parquet scans of `df`'s last run put out: the rows of the row groups they did not skip."""
    plan = df._jdf.queryExecution().executedPlan()
    if plan.nodeName() == "AdaptiveSparkPlan":
        plan = plan.finalPhysicalPlan()
    leaves = plan.collectLeaves()
    scans = [leaves.apply(i) for i in range(leaves.size()) if "parquet" in leaves.apply(i).nodeName().lower()]
    return sum(scan.metrics().get("numOutputRows").get().value() for scan in scans)


def test_the_history_is_sized_by_the_bytes_its_read_listed(spark, tmp_path):
    path = tmp_path / "history"
    spark.createDataFrame(
        [(f"I{i}", f"h{i}") for i in range(1000)], "order_item_id string, row_hash string"
    ).write.parquet(str(path))
    assert b2s.relation_bytes(spark.read.parquet(str(path))) == sum(f.stat().st_size for f in path.glob("*.parquet"))


def test_a_key_index_is_written_sorted_by_key_in_row_groups(spark, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(b2s.silver_store, "KEY_INDEX_ROW_GROUP_BYTES", 64 << 10)
    rows = [(f"I{i:06d}", f"h{i}") for i in reversed(range(30_000))]
    identities = spark.createDataFrame(rows, "order_item_id string, row_hash string").repartition(3)
    b2s.write_key_index(identities, ENTITIES["order_items"], (tmp_path / "index").as_uri())
    [part] = (tmp_path / "index").glob("part-*.parquet")
    metadata = pq.ParquetFile(part).metadata
    assert metadata.num_row_groups > 3 and metadata.num_rows == 30_000
    ranges = [metadata.row_group(g).column(0).statistics for g in range(metadata.num_row_groups)]
    assert all(a.max < b.min for a, b in itertools.pairwise(ranges))  # each row group a range of keys, in order


def test_a_key_index_sorted_by_key_is_read_for_the_batch_key_range_only(spark, tmp_path):
    index = str(tmp_path / "key_index")
    rows = [(f"I{i:06d}", f"h{i}") for i in range(50_000)]
    history = spark.createDataFrame(rows, "order_item_id string, row_hash string")
    history.coalesce(1).sortWithinPartitions("order_item_id").write.option("parquet.block.size", 64 << 10).parquet(
        index
    )
    batch = spark.createDataFrame([("I049990",), ("I049995",), ("I050007",)], "order_item_id string")
    bounds = b2s.key_bounds(batch, ["order_item_id"])
    assert bounds == ("I049990", "I050007")
    needed = b2s.history_of_keys(spark.read.parquet(index), batch, ["order_item_id"], bounds)
    assert sorted(r.order_item_id for r in needed.collect()) == ["I049990", "I049995"]
    assert 0 < _parquet_rows_scanned(needed) < 10_000  # the last row groups, not the 50,000 rows
    # A batch with no key needs no history at all.
    nothing = b2s.history_of_keys(spark.read.parquet(index), batch.where("false"), ["order_item_id"], (None, None))
    assert nothing.collect() == []


def test_missing_required_column_quarantines_the_whole_file_and_extra_columns_are_drift(spark):
    no_updated_at = CUSTOMER_HEADER.replace(",updated_at", "")
    rows = [
        ("bad.csv", "2026-03-01", no_updated_at),
        ("bad.csv", "2026-03-01", GOOD_CUSTOMER.rsplit(",", 1)[0]),
        ("bad.csv", "2026-03-01", GOOD_CUSTOMER.rsplit(",", 1)[0].replace("C1", "C2")),
        ("drift.csv", "2026-03-01", CUSTOMER_HEADER + ",loyalty_tier"),
        ("drift.csv", "2026-03-01", GOOD_CUSTOMER + ",gold"),
    ]
    result = run(spark, "customers", rows)
    assert result.rows_quarantined == {"missing_column": 2}
    assert {q.reason_column for q in result.quarantine.collect()} == {"updated_at"}
    assert result.schema_drift == [{"file": "drift.csv", "extra_columns": ["loyalty_tier"]}]
    [row] = result.silver.collect()
    assert "loyalty_tier" not in row.asDict() and row.customer_id == "C1"


def test_counts_always_reconcile(spark):
    rows = [
        ("i.jsonl", "2026-03-01", line)
        for line in (item("I1"), item("I1"), item("I2", quantity=0), "{oops", item("I3"))
    ]
    result = run(spark, "order_items", rows)
    assert result.rows_read == 5
    assert result.rows_written + sum(result.rows_quarantined.values()) + result.rows_deduplicated == 5
    assert result.silver.count() == result.rows_written and result.quarantine.count() == 2


def test_one_job_reads_a_batch_its_headers_and_whether_it_is_empty(spark, tmp_path):
    import gzip

    day = tmp_path / "ingest_date=2026-03-01"
    day.mkdir()
    (day / "customers.csv").write_text(CUSTOMER_HEADER + "\n" + GOOD_CUSTOMER + "\n")
    (day / "items.jsonl").write_text(item() + "\n" + item("I2") + "\n")
    whole = gzip.compress((item("I3") + "\n").encode() * 50)
    (day / "truncated.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    uris = {p.name: f"file://{p}" for p in day.iterdir()}
    read = lambda names, skip=(): b2s.read_batch(spark, b2s.read_raw_lines(spark, [uris[n] for n in names]), set(skip))  # noqa: E731

    tracker = spark.sparkContext.statusTracker()
    before = len(tracker.getJobIdsForGroup(None))
    batch = read(["customers.csv", "items.jsonl"])
    jobs = len(tracker.getJobIdsForGroup(None)) - before
    firsts = {uri.rsplit("/", 1)[1]: line for uri, line in batch.first_lines.items()}
    assert firsts == {"customers.csv": CUSTOMER_HEADER, "items.jsonl": item()} and not batch.empty
    assert batch.lines.count() == 4
    # The headers came back with the lines: transform asks Spark for nothing more to know them.
    before = len(tracker.getJobIdsForGroup(None))
    headers = b2s._csv_headers(ENTITIES["customers"], batch.lines, batch.first_lines)
    assert len(tracker.getJobIdsForGroup(None)) == before and jobs > 0
    csv = next(f for f in batch.first_lines if f.endswith("customers.csv"))
    assert headers[csv] == list(ENTITIES["customers"].column_names)

    # A batch of one damaged .gz is not empty: its one row quarantines the file whole.
    damaged = read(["truncated.jsonl.gz"])
    assert not damaged.empty and damaged.first_lines == {}
    assert [r.asDict()[b2s.FILE_REASON] for r in damaged.lines.collect()] == ["corrupt_compression"]
    # Every file already committed: empty.
    skipped = read(["items.jsonl"], skip=[f for f in batch.first_lines if f.endswith("items.jsonl")])
    assert skipped.empty and skipped.first_lines == {}
