"""`ecomdwh generate`: deterministic synthetic bronze data per the data contract, with its ground truth.

Same arguments, same bytes. The ground truth (`_ground_truth.json` beside the
data) says, per landing day and entity, how many rows each file holds and how
many of them a correct pipeline quarantines (by reason), deduplicates and
writes, so the Glue jobs and reconciliation can be checked exactly.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from ecomdwh.bronze_files import csv_lines, csv_text, write_landing_file
from ecomdwh.contract import ENTITIES, Entity
from ecomdwh.generator import anomalies
from ecomdwh.generator.world import ChurnProcess, Table, cents_text, simulate

PART_ROWS = 200_000
# One landing day with about 1M order items (1.7 lines an order, Sunday 2026-03-01 volume).
BENCH_ORDERS_PER_DAY = 640_000
# How each JSON column is rendered: money mostly as JSON numbers, some as decimal strings.
_NUMBER_MONEY = {"order_items": ("unit_price", "discount_amount")}


def _records(entity: Entity, table: Table, rows: np.ndarray, rng: np.random.Generator) -> list[dict]:
    cols = {name: table.columns[name][rows].tolist() for name in entity.column_names}
    records = [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]
    if entity.name == "order_items":
        as_text = rng.random(len(records)) < 0.1  # "integers as JSON integers or strings of digits"
        for record, text in zip(records, as_text.tolist(), strict=True):
            record["quantity"] = str(record["quantity"]) if text else int(record["quantity"])
    return records


def _render_many(entity: Entity, records: list[dict]) -> list[str]:
    if entity.format == "csv":
        return csv_lines([[r.get(c) for c in entity.column_names] for r in records])
    return [_render(entity, r) for r in records]


def _render(entity: Entity, record: dict | str) -> str:
    if isinstance(record, str):
        return record
    if entity.format == "csv":
        return _render_many(entity, [record])[0]
    numbers = _NUMBER_MONEY.get(entity.name, ())
    out = {}
    for name, value in record.items():
        if name in numbers and isinstance(value, str) and _is_plain_decimal(value):
            out[name] = _Raw(value)
        else:
            out[name] = value
    return _dumps(out)


class _Raw(str):
    """A decimal written into JSON as a number, digit for digit."""


def _is_plain_decimal(text: str) -> bool:
    head, _, tail = text.lstrip("-").partition(".")
    return head.isdigit() and (tail == "" or tail.isdigit())


def _dumps(record: dict) -> str:
    parts = []
    for name, value in record.items():
        rendered = str(value) if isinstance(value, _Raw) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{json.dumps(name)}:{rendered}")
    return "{" + ",".join(parts) + "}"


def _file_name(entity: Entity, day: date, part: int, gz: bool) -> str:
    return f"{entity.name}-{day:%Y%m%d}-part-{part:04d}.{entity.format}" + (".gz" if gz else "")


def _gzip(entity: Entity, day_index: int, part: int) -> bool:
    # Some files compressed, deterministically: JSON Lines on alternate parts/days, CSV every third day.
    return (day_index + part) % 2 == 1 if entity.format == "jsonl" else day_index % 3 == 2


def _write_parts(out: Path, entity: Entity, day: date, day_index: int, lines: list[str]) -> list[str]:
    header = ",".join(entity.column_names) + "\n" if entity.format == "csv" else ""
    files = []
    for part, start in enumerate(range(0, max(len(lines), 1), PART_ROWS)):
        chunk = lines[start : start + PART_ROWS]
        name = _file_name(entity, day, part, _gzip(entity, day_index, part))
        text = header + "".join(line + "\n" for line in chunk)
        files.append(str(write_landing_file(out, entity, day.isoformat(), name, text).relative_to(out)))
    return files


def _day_lines(entity, table, day_rows, rng_bad, bad_rate, previous, counter):
    """Good lines of a day with bad rows mixed in and conflicts/duplicates after; plus the day's truth."""
    records = _records(entity, table, day_rows, rng_bad)
    good = _render_many(entity, records)
    truth = {"rows": len(good), "quarantined": Counter(), "duplicates": 0}
    if bad_rate == 0 or not good:
        return good, good, truth
    n_bad = int(round(len(good) * bad_rate / (1 - bad_rate)))
    classes = anomalies.classes_for(entity)
    offset = int(rng_bad.integers(0, len(classes)))
    bad_lines, after = [], []
    sources = rng_bad.integers(0, len(good), n_bad)
    for i in range(n_bad):
        reason = classes[(offset + i) % len(classes)]
        counter[0] += 1
        if reason == "unparseable_row":
            line = anomalies.truncate(good[int(sources[i])])
        else:
            line = _render(entity, anomalies.corrupt(records[int(sources[i])], entity, reason, rng_bad, counter[0]))
        (after if reason == "conflicting_key" else bad_lines).append(line)
        truth["quarantined"][reason] += 1
    # Exact duplicates of good rows, from this day or the one before (re-sent files happen).
    pool = good + previous
    n_dup = int(round(len(good) * bad_rate / 4))
    after += [pool[int(i)] for i in rng_bad.integers(0, len(pool), n_dup)]
    truth["duplicates"] = n_dup
    truth["rows"] += len(bad_lines) + len(after)
    return _interleave(good, bad_lines, rng_bad) + after, good, truth


def _interleave(good: list[str], extra: list[str], rng: np.random.Generator) -> list[str]:
    """`good` in order with `extra` lines slipped in at random places."""
    positions = np.sort(rng.integers(0, len(good) + 1, len(extra))).tolist()
    out, last = [], 0
    for pos, line in zip(positions, extra, strict=True):
        out += good[last:pos]
        out.append(line)
        last = pos
    return out + good[last:]


def _first_rows(table: Table, columns: list[str], n: int, key: str, suffix: str) -> list[list]:
    """The first `n` rows of a table as lists, with the key made fresh."""
    rows = [list(values) for values in zip(*(table.columns[c][:n].tolist() for c in columns), strict=True)]
    k = columns.index(key)
    for i, row in enumerate(rows):
        row[k] = f"{row[k]}-{suffix}{i}"
    return rows


def _extra_file(out: Path, truth: dict, entity: Entity, day: date, part: int, cols: list[str], rows: list) -> str:
    name = f"{entity.name}-{day:%Y%m%d}-part-{part:04d}.csv"
    rel = str(write_landing_file(out, entity, day.isoformat(), name, csv_text(cols, rows)).relative_to(out))
    entry = truth["days"][day.isoformat()][entity.name]
    entry["files"].append(rel)
    entry["rows"] += len(rows)
    return rel


def _file_level_cases(out: Path, start: date, days: int, tables: dict[str, Table], truth: dict) -> None:
    """A customers file missing a required column, and a products file with an undeclared one."""
    customers, products = ENTITIES["customers"], ENTITIES["products"]
    cols = [c for c in customers.column_names if c != "updated_at"]
    rows = _first_rows(tables["customers"], cols, 5, "customer_id", "M")
    rel = _extra_file(out, truth, customers, start + timedelta(days=min(1, days - 1)), 9001, cols, rows)
    quarantined = truth["days"][rel.split("=")[1].split("/")[0]]["customers"]["quarantined"]
    quarantined["missing_column"] = quarantined.get("missing_column", 0) + len(rows)
    truth["file_level"]["missing_column"].append({"file": rel, "missing": ["updated_at"]})

    rows = [[*row, "A+"] for row in _first_rows(tables["products"], products.column_names, 4, "product_id", "D")]
    cols = [*products.column_names, "eco_label"]
    rel = _extra_file(out, truth, products, start + timedelta(days=min(2, days - 1)), 9002, cols, rows)
    truth["file_level"]["schema_drift"].append({"file": rel, "extra_columns": ["eco_label"]})


def generate(
    out_dir: Path,
    days: int,
    orders_per_day: int,
    seed: int,
    bad_rate: float,
    start_date: date = date(2026, 3, 1),
    churn: ChurnProcess | None = None,
) -> dict:
    """Write `days` landing days of bronze into `out_dir` and return (and write) the ground truth.

    With `churn`, customers stop ordering by the churn process, and the truth's `churn` says who churned when."""
    if days < 1:
        raise ValueError("--days must be at least 1")
    if orders_per_day < 1:
        raise ValueError("--orders-per-day must be at least 1")
    if not 0 <= bad_rate <= 0.5:
        raise ValueError("--bad-rate must be between 0 and 0.5 (a share of rows)")
    rng_world, rng_bad = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    world = simulate(rng_world, start_date, days, orders_per_day, churn)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth: dict = {
        "generator": {"days": days, "orders_per_day": orders_per_day, "seed": seed, "bad_rate": bad_rate,
                      "start_date": start_date.isoformat()},
        "days": {(start_date + timedelta(days=d)).isoformat(): {} for d in range(days)},
        "file_level": {"missing_column": [], "schema_drift": []},
    }  # fmt: skip
    counter = [0]
    for name, entity in ENTITIES.items():
        table = world.tables[name]
        order = np.argsort(table.day, kind="stable")
        bounds = np.searchsorted(table.day[order], np.arange(days + 1))
        previous: list[str] = []
        for d in range(days):
            day = start_date + timedelta(days=d)
            rows = order[bounds[d] : bounds[d + 1]]
            lines, good, day_truth = _day_lines(entity, table, rows, rng_bad, bad_rate, previous, counter)
            files = _write_parts(out_dir, entity, day, d, lines) if lines else []
            previous = good[:1000]
            truth["days"][day.isoformat()][name] = {"files": files, **day_truth}
    if bad_rate > 0:
        _file_level_cases(out_dir, start_date, days, world.tables, truth)
    _finish_truth(truth, world)
    if world.churn is not None:
        truth["churn"] = world.churn.as_dict(start_date)
    (out_dir / "_ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth


def _finish_truth(truth: dict, world) -> None:
    totals: dict[str, dict] = {}
    for entities in truth["days"].values():
        for name, entry in entities.items():
            entry["quarantined"] = dict(sorted(entry["quarantined"].items()))
            entry["written"] = entry["rows"] - sum(entry["quarantined"].values()) - entry["duplicates"]
            total = totals.setdefault(name, {"rows": 0, "quarantined": Counter(), "duplicates": 0, "written": 0})
            total["rows"] += entry["rows"]
            total["quarantined"].update(entry["quarantined"])
            total["duplicates"] += entry["duplicates"]
            total["written"] += entry["written"]
    for total in totals.values():
        total["quarantined"] = dict(sorted(total["quarantined"].items()))
    truth["totals"] = totals
    payments = world.tables["payments"].columns["amount"]
    truth["sums"] = {
        "order_items_line_amount": str(Decimal(int(world.line_cents.sum())) / 100),
        "payments_amount": str(sum(Decimal(a) for a in payments.tolist())),
    }


def bench_generate(work_dir: Path) -> dict:
    """About 1M order items with their orders, payments, events, customers and products, timed."""
    started = time.perf_counter()
    truth = generate(work_dir, days=1, orders_per_day=BENCH_ORDERS_PER_DAY, seed=1, bad_rate=0.01)
    seconds = time.perf_counter() - started
    items = truth["totals"]["order_items"]["rows"]
    rows = sum(t["rows"] for t in truth["totals"].values())
    return {"order_items": items, "rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}


__all__ = ["ChurnProcess", "generate", "bench_generate", "cents_text"]
