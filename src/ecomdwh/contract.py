"""The bronze data contract as code: entities, columns, formats, domains, layout.

docs/data_contract.md is the prose version; both describe the same interface.
The generator writes it, `ecomdwh land` checks its layout, the Glue jobs read it.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from typing import Literal

Format = Literal["csv", "jsonl"]
ColumnType = Literal["string", "email", "timestamp", "date", "money", "integer"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "string"
    required: bool = False  # a null or empty value is `missing_field`
    domain: str | None = None  # name of an entry in DOMAINS


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    format: Format
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # CDC entities keep every version (latest updated_at is current);
    # immutable ones keep the first row seen and quarantine `conflicting_key`.
    versioned: bool

    @property
    def path(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def extensions(self) -> tuple[str, str]:
        return (f".{self.format}", f".{self.format}.gz")


DOMAINS: dict[str, tuple[str, ...]] = {
    "payment_method": ("card", "paypal", "bank_transfer", "gift_card", "cash_on_delivery"),
    "shipment_status": ("pending", "shipped", "in_transit", "delivered", "returned", "lost"),
    "order_status": ("placed", "paid", "processing", "shipped", "delivered", "cancelled", "returned"),
    "order_channel": ("web", "mobile_app", "marketplace", "phone"),
    "payment_status": ("authorized", "captured", "failed", "refunded"),
    "customer_segment": ("consumer", "small_business", "corporate", "vip"),
}

_C = Column
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "shop",
            "customers",
            "csv",
            ("customer_id",),
            (
                _C("customer_id", required=True),
                _C("email", "email"),
                _C("first_name"),
                _C("last_name"),
                _C("city"),
                _C("state"),
                _C("country"),
                _C("segment", domain="customer_segment"),
                _C("signup_date", "date"),
                _C("updated_at", "timestamp", required=True),
            ),
            versioned=True,
        ),
        Entity(
            "shop",
            "products",
            "csv",
            ("product_id",),
            (
                _C("product_id", required=True),
                _C("sku"),
                _C("product_name"),
                _C("category"),
                _C("brand"),
                _C("unit_price", "money", required=True),
                _C("updated_at", "timestamp", required=True),
            ),
            versioned=True,
        ),
        Entity(
            "shop",
            "orders",
            "jsonl",
            ("order_id",),
            (
                _C("order_id", required=True),
                _C("customer_id", required=True),
                _C("order_ts", "timestamp", required=True),
                _C("status", required=True, domain="order_status"),
                _C("channel", domain="order_channel"),
                _C("updated_at", "timestamp", required=True),
            ),
            versioned=True,
        ),
        Entity(
            "shop",
            "order_items",
            "jsonl",
            ("order_item_id",),
            (
                _C("order_item_id", required=True),
                _C("order_id", required=True),
                _C("product_id", required=True),
                _C("quantity", "integer", required=True),
                _C("unit_price", "money", required=True),
                _C("discount_amount", "money"),  # missing or null means 0
            ),
            versioned=False,
        ),
        Entity(
            "payments",
            "payments",
            "jsonl",
            ("payment_id",),
            (
                _C("payment_id", required=True),
                _C("order_id", required=True),
                _C("payment_method", required=True, domain="payment_method"),
                _C("amount", "money", required=True),
                _C("status", domain="payment_status"),
                _C("paid_at", "timestamp", required=True),
            ),
            versioned=False,
        ),
        Entity(
            "logistics",
            "shipment_events",
            "jsonl",
            ("shipment_id", "status_ts"),
            (
                _C("shipment_id", required=True),
                _C("order_id", required=True),
                _C("carrier"),
                _C("status", required=True, domain="shipment_status"),
                _C("status_ts", "timestamp", required=True),
            ),
            versioned=False,
        ),
    )
}

# Reason codes a quarantined row (or file) carries. The first block is the
# contract's own list; the rest name the remaining rules of the contract.
QUARANTINE_REASONS: tuple[str, ...] = (
    "unparseable_row",
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "non_positive_quantity",
    "negative_amount",
    "unknown_domain_value",
    "negative_line_amount",
    "money_precision",  # more than 2 decimals: a bad value, never rounded
    "conflicting_key",  # immutable entity, same key, different content
    "conflicting_version",  # versioned entity, same key and updated_at, different content
    "amount_out_of_range",  # a line amount that does not fit the warehouse's decimal(18,2)
    "missing_column",  # whole file: a required column is absent
    "undecodable_file",  # whole file: not UTF-8 text (Latin-1, UTF-16, binary)
    "corrupt_compression",  # whole file: a .gz that does not decompress (truncated, damaged)
)

INGEST_DATE_RE = re.compile(r"^ingest_date=(\d{4}-\d{2}-\d{2})$")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DATE_FORMAT = "%Y-%m-%d"


def entity_for_path(source: str, name: str) -> Entity | None:
    entity = ENTITIES.get(name)
    return entity if entity is not None and entity.source == source else None


def is_hidden_name(name: str) -> bool:
    """True for a file or folder name Spark's and Hadoop's listings skip, so a Glue job never reads it.

    Hadoop's input formats drop names starting with `_` or `.`; Spark's file index also drops
    `*._COPYING_` (an upload in progress). Landing and the Glue side share this one rule.
    """
    return name.startswith(("_", ".")) or name.endswith("._COPYING_")


def bronze_key(entity: Entity, ingest_date: str, file_name: str) -> str:
    """The object key of a landing file inside the raw bucket."""
    return f"{entity.path}/ingest_date={ingest_date}/{file_name}"


def gunzipped(data: bytes) -> bytes | None:
    """The content of a gzip landing file, or None when it does not decompress whole (truncated, damaged):
    such a file is quarantined as one `corrupt_compression` row, and counted as one row in bronze."""
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error):
        return None
