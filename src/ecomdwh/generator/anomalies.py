"""Bad input, made on purpose: every class of the contract, one reason per bad row.

A bad row is a corrupted copy of a good row with a fresh key, so the good
data is the same whatever the bad rate. Conflicting keys and exact
duplicates reuse a good row's key (and, for duplicates, its exact line).
"""

from __future__ import annotations

import numpy as np

from ecomdwh.contract import Entity

UNKNOWN_VALUES = {
    "payment_method": "bitcoin",
    "shipment_status": "teleported",
    "order_status": "abandoned_cart",
    "order_channel": "carrier_pigeon",
    "payment_status": "maybe",
    "customer_segment": "platinum",
}
BAD_TIMESTAMPS = ("2026-02-30T25:61:00Z", "03/01/2026 10:00", "yesterday", "2026-03-01 10:00:00")


def classes_for(entity: Entity) -> list[str]:
    """The bad-input classes that apply to an entity, in the contract's order."""
    types = {c.type for c in entity.columns}
    out = ["unparseable_row", "missing_field"]
    if types & {"money", "integer"}:
        out.append("wrong_type")
    if types & {"timestamp", "date"}:
        out.append("bad_timestamp")
    if "money" in types:
        out += ["money_precision", "negative_amount"]
    if "integer" in types:
        out.append("non_positive_quantity")
    if any(c.domain for c in entity.columns):
        out.append("unknown_domain_value")
    if entity.name == "order_items":
        out.append("negative_line_amount")
    if not entity.versioned and entity.name != "shipment_events":
        out.append("conflicting_key")
    return out


def fresh_key(row: dict, entity: Entity, n: int) -> dict:
    key = entity.key[0]
    return {**row, key: f"{row[key]}-X{n}"}


def corrupt(row: dict, entity: Entity, reason: str, rng: np.random.Generator, n: int) -> dict | str:
    """A copy of `row` that breaks exactly one rule; a str is a raw line (unparseable)."""
    cols = {c.name: c for c in entity.columns}
    if reason == "conflicting_key":
        money = next(c.name for c in entity.columns if c.type == "money")
        return {**row, money: f"{float(row[money]) + 1:.2f}"}
    row = fresh_key(row, entity, n)
    pick = lambda names: names[int(rng.integers(0, len(names)))]  # noqa: E731
    if reason == "missing_field":
        return {**row, pick([c.name for c in entity.columns if c.required]): None}
    if reason == "wrong_type":
        name = pick([c.name for c in entity.columns if c.type in ("money", "integer")])
        return {**row, name: ("two" if cols[name].type == "integer" else "12,50")}
    if reason == "bad_timestamp":
        name = pick([c.name for c in entity.columns if c.type in ("timestamp", "date")])
        return {**row, name: BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]}
    if reason == "money_precision":
        return {**row, pick([c.name for c in entity.columns if c.type == "money"]): "12.345"}
    if reason == "negative_amount":
        money = [c.name for c in entity.columns if c.type == "money" and c.name != "discount_amount"]
        return {**row, pick(money): "-5.00"}
    if reason == "non_positive_quantity":
        return {**row, "quantity": int(rng.integers(-2, 1))}
    if reason == "unknown_domain_value":
        name = pick([c.name for c in entity.columns if c.domain])
        return {**row, name: UNKNOWN_VALUES[cols[name].domain]}
    if reason == "negative_line_amount":
        gross = int(row["quantity"]) * round(float(row["unit_price"]) * 100)
        return {**row, "discount_amount": f"{(gross + 100) / 100:.2f}"}
    raise ValueError(f"no corruption for {reason}")


def truncate(line: str) -> str:
    """An unparseable version of a rendered line: JSON cut short, or CSV missing its last field."""
    if line.startswith("{"):
        return line[: max(2, len(line) // 2)]
    return line.rsplit(",", 1)[0] if "," in line else line + ",extra"
