"""The contract's validity rules as Spark column expressions: clean, check, type.

Every row gets at most one reason, the first rule it breaks in the order of
docs/data_contract.md, and the name of the column that broke it.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ecomdwh.contract import DOMAINS, Entity
from ecomdwh.contract import Column as ContractColumn
from glue_local.etl.parsing import PARSE_ERROR

REASON = "_reason"
REASON_COLUMN = "_reason_column"
MONEY_TYPE = "decimal(18,2)"
# Wide enough for quantity x unit_price at the contract's digit limits, so an overflow is seen, not nulled.
_WIDE_MONEY = "decimal(38,2)"
_MONEY_LIMIT = 10**16  # the first value that no longer fits MONEY_TYPE

# The instants the contract accepts (docs/data_contract.md): anything outside is a typo or a sentinel.
TIMESTAMP_MIN = "1970-01-01 00:00:00"
TIMESTAMP_END = "2100-01-01 00:00:00"

_TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_NUMBER_RE = r"^-?\d{1,15}(\.\d+)?$"
_INTEGER_RE = r"^-?\d{1,9}$"


def _clean(col: ContractColumn) -> Column:
    """Trimmed text, empty as null, in the column's canonical spelling."""
    value = F.trim(F.col(col.name))
    value = F.when(value == "", None).otherwise(value)
    if col.type == "email":
        return F.lower(value)
    if col.name == "country":
        return F.upper(value)
    if col.domain:
        return F.regexp_replace(F.lower(value), r"[\s-]+", "_")
    return value


def _timestamp(value: Column) -> Column:
    return F.to_timestamp(value, "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]'Z'")


def _typed(col: ContractColumn, value: Column) -> Column:
    if col.type == "timestamp":
        return _timestamp(value)
    if col.type == "date":
        return F.to_date(value, "yyyy-MM-dd")
    if col.type == "money":
        return value.cast(MONEY_TYPE)
    if col.type == "integer":
        return value.cast("int")
    return value


_SILVER_TYPES = {
    "timestamp": T.TimestampType(),
    "date": T.DateType(),
    "money": T.DecimalType(18, 2),
    "integer": T.IntegerType(),
}


def silver_type(col: ContractColumn) -> T.DataType:
    """The type a contract column has in silver (what `validate` makes of it)."""
    return _SILVER_TYPES.get(col.type, T.StringType())


def _rules(entity: Entity) -> list[tuple[str, str | None, Column]]:
    """(reason, column, broken) in the contract's order; `broken` reads the cleaned text columns."""
    cols = entity.columns
    rules: list[tuple[str, str | None, Column]] = [("unparseable_row", None, F.col(PARSE_ERROR))]
    rules += [("missing_field", c.name, F.col(c.name).isNull()) for c in cols if c.required]
    for c in cols:
        v = F.col(c.name)
        if c.type == "money":
            rules.append(("wrong_type", c.name, v.isNotNull() & ~v.rlike(_NUMBER_RE)))
        elif c.type == "integer":
            rules.append(("wrong_type", c.name, v.isNotNull() & ~v.rlike(_INTEGER_RE)))
    for c in cols:
        v = F.col(c.name)
        if c.type == "timestamp":
            rules.append(("bad_timestamp", c.name, v.isNotNull() & _bad_instant(v.rlike(_TIMESTAMP_RE), _timestamp(v))))
        elif c.type == "date":
            day = F.to_date(v, "yyyy-MM-dd")
            rules.append(("bad_timestamp", c.name, v.isNotNull() & _bad_instant(v.rlike(_DATE_RE), day)))
    money = [c.name for c in cols if c.type == "money"]
    rules += [
        ("money_precision", m, F.coalesce(F.length(F.split(F.col(m), r"\.").getItem(1)), F.lit(0)) > 2) for m in money
    ]
    rules += [("non_positive_quantity", c.name, F.col(c.name).cast("int") <= 0) for c in cols if c.type == "integer"]
    rules += [("negative_amount", m, F.col(m).cast(MONEY_TYPE) < 0) for m in money]
    for c in cols:
        if c.domain:
            rules.append(
                ("unknown_domain_value", c.name, F.col(c.name).isNotNull() & ~F.col(c.name).isin(*DOMAINS[c.domain]))
            )
    if entity.name == "order_items":
        amount = line_amount(F.col("quantity"), F.col("unit_price"), F.col("discount_amount"), _WIDE_MONEY)
        rules.append(("negative_line_amount", "discount_amount", amount < 0))
        rules.append(("amount_out_of_range", "unit_price", F.abs(amount) >= _MONEY_LIMIT))
    return rules


def _bad_instant(well_formed: Column, value: Column) -> Column:
    """Not the contract's spelling, not a real instant, or outside [TIMESTAMP_MIN, TIMESTAMP_END)."""
    as_ts = value.cast("timestamp")
    in_range = (as_ts >= F.lit(TIMESTAMP_MIN).cast("timestamp")) & (as_ts < F.lit(TIMESTAMP_END).cast("timestamp"))
    return ~well_formed | value.isNull() | ~in_range


def line_amount(quantity: Column, unit_price: Column, discount: Column, result_type: str = MONEY_TYPE) -> Column:
    """quantity x unit_price - discount (a missing discount is 0), exact in decimals."""
    gross = quantity.cast("decimal(10,0)") * unit_price.cast(MONEY_TYPE)
    return (gross - F.coalesce(discount.cast(MONEY_TYPE), F.lit(0).cast(MONEY_TYPE))).cast(result_type)


def validate(entity: Entity, parsed: DataFrame) -> DataFrame:
    """Cleaned text columns, a reason and its column for rows that break a rule, then typed columns.

    Expects the contract columns as text plus the parse flag; other columns pass through.
    """
    cleaned = parsed.select(
        *[F.col(n) for n in parsed.columns if n not in entity.column_names],
        *[_clean(c).alias(c.name) for c in entity.columns],
    )
    rules = _rules(entity)
    reason = F.coalesce(*[F.when(broken, F.lit(r)) for r, _, broken in rules])
    column = F.coalesce(*[F.when(broken, F.lit(c).cast("string")) for _, c, broken in rules])
    checked = cleaned.withColumn(REASON, reason).withColumn(REASON_COLUMN, F.when(reason.isNotNull(), column))
    typed = [
        F.when(F.col(REASON).isNull(), _typed(c, F.col(c.name))).alias(c.name)
        if c.type != "string" and c.type != "email"
        else F.col(c.name)
        for c in entity.columns
    ]
    others = [F.col(n) for n in checked.columns if n not in entity.column_names]
    result = checked.select(*others, *typed)
    if entity.name == "order_items":
        result = result.withColumn("discount_amount", F.coalesce("discount_amount", F.lit(0).cast(MONEY_TYPE)))
    return result
