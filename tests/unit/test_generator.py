"""The bronze generator: contract shape, determinism, bad rate, and a ground truth the files agree with."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ecomdwh.bronze_files import read_landing_text
from ecomdwh.contract import ENTITIES, entity_for_path
from ecomdwh.generator import generate
from ecomdwh.generator.anomalies import classes_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bronze")
    return out, generate(out, days=4, orders_per_day=300, seed=5, bad_rate=0.05)


def data_files(root: Path):
    """(entity, ingest_date, path) for every landing file, in landing order."""
    for path in sorted(root.rglob("*.*")):
        rel = path.relative_to(root)
        if len(rel.parts) == 4:
            yield entity_for_path(*rel.parts[:2]), rel.parts[2].split("=")[1], path


def rows_of(entity, path: Path) -> list[str]:
    lines = read_landing_text(path).splitlines()
    return lines[1:] if entity.format == "csv" else lines


def test_files_follow_the_contract_layout_and_columns(sample):
    root, truth = sample
    drift = {d["file"] for d in truth["file_level"]["schema_drift"]}
    missing = {d["file"] for d in truth["file_level"]["missing_column"]}
    seen = set()
    for entity, day, path in data_files(root):
        assert entity is not None, path
        seen.add(entity.name)
        assert path.name.endswith(entity.extensions) and path.name.startswith(f"{entity.name}-{day.replace('-', '')}")
        rel = str(path.relative_to(root))
        if entity.format == "csv":
            header = read_landing_text(path).splitlines()[0].split(",")
            if rel not in drift | missing:
                assert header == entity.column_names
        else:
            for line in rows_of(entity, path):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # an injected unparseable row
                assert set(record) <= set(entity.column_names)
    assert seen == set(ENTITIES)


def test_good_values_have_contract_formats(tmp_path: Path):
    generate(tmp_path, days=2, orders_per_day=100, seed=1, bad_rate=0)
    for entity, _, path in data_files(tmp_path):
        text_rows = rows_of(entity, path)
        records = (
            list(csv.DictReader([",".join(entity.column_names), *text_rows]))
            if entity.format == "csv"
            else [json.loads(line) for line in text_rows]
        )
        for record in records:
            for col in entity.columns:
                value = record.get(col.name)
                if value in (None, ""):
                    assert not col.required, (entity.name, col.name)
                elif col.type == "timestamp":
                    datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
                elif col.type == "date":
                    datetime.strptime(value, "%Y-%m-%d")
                elif col.type == "money":
                    assert Decimal(str(value)).as_tuple().exponent >= -2
                elif col.type == "integer":
                    assert int(value) > 0 and str(value).isdigit()


def test_same_seed_same_bytes(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, days=3, orders_per_day=150, seed=9, bad_rate=0.05)
    generate(b, days=3, orders_per_day=150, seed=9, bad_rate=0.05)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert any(str(p).endswith(".gz") for p in files_a)
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    generate(c := tmp_path / "c", days=3, orders_per_day=150, seed=10, bad_rate=0.05)
    assert (c / "_ground_truth.json").read_bytes() != (a / "_ground_truth.json").read_bytes()


def test_bad_rate_is_honoured_and_every_class_appears(sample):
    _, truth = sample
    for name, total in truth["totals"].items():
        bad = sum(n for reason, n in total["quarantined"].items() if reason != "missing_column")
        rows = total["rows"] - total["duplicates"] - total["quarantined"].get("missing_column", 0)
        assert bad / rows == pytest.approx(0.05, abs=0.01), name
        assert set(classes_for(ENTITIES[name])) <= set(total["quarantined"]), name


def test_bad_rate_zero_is_all_good(tmp_path: Path):
    truth = generate(tmp_path, days=2, orders_per_day=100, seed=1, bad_rate=0)
    assert all(t["quarantined"] == {} and t["duplicates"] == 0 for t in truth["totals"].values())
    assert truth["file_level"] == {"missing_column": [], "schema_drift": []}


def test_ground_truth_matches_the_files(sample):
    """Re-count from the files alone: rows per day, unparseable JSON lines, exact repeats."""
    root, truth = sample
    rows = defaultdict(int)
    unparseable = defaultdict(int)
    repeats = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    for entity, day, path in data_files(root):
        for line in rows_of(entity, path):
            rows[entity.name, day] += 1
            if entity.format == "jsonl":
                try:
                    json.loads(line)
                except ValueError:
                    unparseable[entity.name, day] += 1
                    continue  # two cut-short lines may look alike; they are bad rows, not duplicates
            repeats[entity.name, day] += line in seen[entity.name]
            seen[entity.name].add(line)
    for day, entities in truth["days"].items():
        for name, entry in entities.items():
            assert rows[name, day] == entry["rows"], (name, day)
            assert repeats[name, day] == entry["duplicates"], (name, day)
            assert entry["written"] == entry["rows"] - sum(entry["quarantined"].values()) - entry["duplicates"]
            if ENTITIES[name].format == "jsonl":
                assert unparseable[name, day] == entry["quarantined"].get("unparseable_row", 0), (name, day)
            assert sorted(entry["files"]) == sorted(
                str(p.relative_to(root)) for p in (root / ENTITIES[name].path / f"ingest_date={day}").iterdir()
            )


def good_records(root: Path, name: str) -> list[dict]:
    entity = ENTITIES[name]
    out, seen = [], set()
    for ent, _, path in data_files(root):
        if ent.name != name:
            continue
        for line in rows_of(ent, path):
            if line in seen:
                continue
            seen.add(line)
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    key = entity.key[0]
    firsts: dict[str, dict] = {}
    for r in out:
        if r.get(key) and "-X" not in str(r[key]):
            firsts.setdefault(r[key], r)
    return list(firsts.values())


def test_payments_cover_their_orders_exactly_and_events_never_precede_orders(sample):
    root, truth = sample
    line_total: Counter[str] = Counter()
    for item in good_records(root, "order_items"):
        cents = int(item["quantity"]) * round(Decimal(str(item["unit_price"])) * 100)
        line_total[item["order_id"]] += cents - round(Decimal(str(item.get("discount_amount") or 0)) * 100)
    paid: Counter[str] = Counter()
    for payment in good_records(root, "payments"):
        paid[payment["order_id"]] += round(Decimal(payment["amount"]) * 100)
    assert paid and all(paid[o] == line_total[o] for o in paid)
    assert sum(line_total.values()) == round(Decimal(truth["sums"]["order_items_line_amount"]) * 100)

    order_ts = {o["order_id"]: o["order_ts"] for o in good_records(root, "orders")}
    events = [e for e in good_records(root, "shipment_events") if e["order_id"] in order_ts]
    assert events and all(e["status_ts"] >= order_ts[e["order_id"]] for e in events)


@pytest.mark.parametrize(("args", "message"), [((0, 10, 0.1), "--days"), ((1, 0, 0.1), "--orders-per-day"),
                                               ((1, 10, 0.9), "--bad-rate")])  # fmt: skip
def test_bad_arguments_are_refused(tmp_path: Path, args, message):
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, *args[:2], 1, args[2])


def test_committed_sample_regenerates_byte_identical(tmp_path: Path):
    committed = ROOT / "data_samples" / "bronze"
    params = json.loads((committed / "_ground_truth.json").read_text())["generator"]
    generate(tmp_path, params["days"], params["orders_per_day"], params["seed"], params["bad_rate"])
    files = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for rel in files:
        assert (committed / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
