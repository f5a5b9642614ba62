"""Bronze -> silver for one entity: parse, validate, deduplicate, quarantine, with exact counts.

Plain functions over DataFrames; the Glue job script only wires them to its
GlueContext. For every run:  rows_read = rows_written + rows_quarantined + rows_deduplicated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ecomdwh.contract import Entity, gunzipped
from glue_local.etl import parsing, silver_store
from glue_local.etl.validation import REASON, REASON_COLUMN, silver_type, validate

# How the job asks Glue for raw lines: quoting off and a separator that never occurs.
RAW_LINES_FORMAT = {"quoteChar": -1, "separator": "\u0001", "withHeader": False, "attachFilename": "source_file"}
RAW_LINE_COLUMN = "col0"

LINEAGE = ["source_file", "source_line", "ingest_date", "job_run_id", "loaded_at", "row_hash"]
_STATUS = "_status"
# Set on every line of a file that must be quarantined whole (undecodable_file, corrupt_compression).
FILE_REASON = "_file_reason"
_CONFLICTS = ("conflicting_key", "conflicting_version")


class ReconciliationError(RuntimeError):
    """The run's counts do not add up: nothing of it may be committed."""


class ConcurrentRunError(RuntimeError):
    """Another run committed some of this run's files while it ran: this one must not commit them again."""


@dataclass
class BatchResult:
    silver: DataFrame
    quarantine: DataFrame
    files: list[str]
    rows_read: int
    rows_written: int
    rows_quarantined: dict[str, int]
    rows_deduplicated: int
    schema_drift: list[dict] = field(default_factory=list)
    silver_ingest_dates: list[str] = field(default_factory=list)
    quarantine_ingest_dates: list[str] = field(default_factory=list)
    # What the batch holds cached (the classified rows silver and quarantine select from); released after the writes.
    cached: list[DataFrame] = field(default_factory=list)

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()

    def check(self) -> None:
        total = self.rows_written + sum(self.rows_quarantined.values()) + self.rows_deduplicated
        if total != self.rows_read:
            raise ReconciliationError(
                f"rows_read {self.rows_read} != written {self.rows_written} + quarantined "
                f"{sum(self.rows_quarantined.values())} + deduplicated {self.rows_deduplicated}"
            )


def bronze_path(raw_bucket: str, entity: Entity, ingest_date: str | None = None) -> str:
    base = f"s3://{raw_bucket}/{entity.path}/"
    return f"{base}ingest_date={ingest_date}/" if ingest_date else base


def number_lines(raw: DataFrame) -> DataFrame:
    """(col0, source_file) -> one row per line with its file, ingest date and 1-based line number.

    Files are read whole per task, so the read order within a file is its line order. A file with
    any line that is not UTF-8 (Latin-1, UTF-16, binary) is flagged whole as `undecodable_file`,
    its lines kept with the bad bytes replaced, so quarantine can show them.
    """
    ordered = raw.withColumn("_pos", F.monotonically_increasing_id())
    by_file = Window.partitionBy("source_file").orderBy("_pos")
    line = F.col(RAW_LINE_COLUMN)
    # Spark keeps a line's bytes as read: re-encoding them shows whether they were UTF-8; NUL betrays UTF-16.
    undecodable = (F.encode(line, "UTF-8") != line.cast("binary")) | (F.instr(line, "\u0000") > 0)
    return ordered.select(
        F.col("source_file"),
        _ingest_date(F.col("source_file")),
        F.row_number().over(by_file).alias("source_line"),
        F.when(undecodable, F.decode(line.cast("binary"), "UTF-8")).otherwise(line).alias("raw_line"),
        F.when(F.max(undecodable).over(Window.partitionBy("source_file")), F.lit("undecodable_file"))
        .cast("string")
        .alias(FILE_REASON),
    )


def _ingest_date(source_file: F.Column) -> F.Column:
    return F.regexp_extract(source_file, r"ingest_date=(\d{4}-\d{2}-\d{2})", 1).alias("ingest_date")


def read_raw_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    """Raw lines of `files` as the job's Glue read yields them: `col0` and `source_file`."""
    if not files:
        return spark.createDataFrame([], f"{RAW_LINE_COLUMN} string, source_file string")
    lines = spark.read.text(files)
    return lines.select(F.col("value").alias(RAW_LINE_COLUMN), F.input_file_name().alias("source_file"))


def corrupt_gzip_files(spark: SparkSession, files: list[str]) -> list[str]:
    """The `.gz` files among `files` that do not decompress whole (truncated or damaged)."""
    gz = [f for f in files if f.endswith(".gz")]
    if not gz:
        return []
    content = spark.sparkContext.binaryFiles(",".join(gz))
    damaged = content.filter(lambda item: gunzipped(item[1]) is None).keys().collect()
    # binaryFiles names a file as Hadoop resolves it (its scheme may differ); answer with the caller's spelling.
    by_key = {_key_of(f): f for f in gz}
    return sorted(by_key.get(_key_of(d), d) for d in damaged)


def _key_of(uri: str) -> str:
    return uri.split("://", 1)[-1].split("/", 1)[-1]


def _corrupt_rows(spark: SparkSession, files: list[str]) -> DataFrame:
    """One row per file that could not be decompressed: the file is quarantined whole, counted as one row."""
    rows = [(f, 0, None, "corrupt_compression") for f in files]
    schema = f"source_file string, source_line int, raw_line string, {FILE_REASON} string"
    df = spark.createDataFrame(rows, schema)
    return df.select("source_file", _ingest_date(F.col("source_file")), "source_line", "raw_line", FILE_REASON)


@dataclass
class Batch:
    """The numbered lines of a batch, cached, and each file's first line (a CSV file's header)."""

    lines: DataFrame
    first_lines: dict[str, str | None]
    empty: bool


def read_batch(spark: SparkSession, raw_lines: DataFrame, skip_files: set[str]) -> Batch:
    """The batch's numbered lines, cached, minus files already committed; never fails on one bad file.

    A damaged .gz makes Spark's reader throw for the whole batch: then the damaged files are found,
    quarantined whole (`corrupt_compression`), and the others read again without them. The one Spark
    job that fills the cache also brings back each file's first line, so neither the headers nor the
    batch's emptiness costs a job of its own.
    """
    lines = number_lines(raw_lines)
    if skip_files:
        lines = lines.where(~F.col("source_file").isin(*sorted(skip_files)))
    lines = lines.persist()
    try:
        return _filled(lines)
    except Exception:
        lines.unpersist()
        files = [f for f in raw_lines.inputFiles() if f not in skip_files]
        damaged = corrupt_gzip_files(spark, files)
        if not damaged:
            raise  # not a bad input: the tool's own fault or an outage
    readable = [f for f in files if f not in damaged]
    lines = number_lines(read_raw_lines(spark, readable)).unionByName(_corrupt_rows(spark, damaged)).persist()
    return _filled(lines)


def _filled(lines: DataFrame) -> Batch:
    # Line 0 is a file quarantined whole as corrupt_compression: a row of the batch, with no header.
    heads = lines.where(F.col("source_line") <= 1).select("source_file", "source_line", "raw_line").collect()
    first = {r.source_file: r.raw_line for r in heads if r.source_line == 1}
    return Batch(lines, first, empty=not heads)


def _csv_headers(entity: Entity, lines: DataFrame, first_lines: dict[str, str | None] | None) -> dict[str, list[str]]:
    if entity.format != "csv":
        return {}
    if first_lines is None:  # lines built by hand, not read by read_batch
        rows = lines.where(F.col("source_line") == 1).select("source_file", "raw_line").collect()
        first_lines = {r.source_file: r.raw_line for r in rows}
    return {file: parsing.parse_header(line) for file, line in first_lines.items()}


def _parse(entity: Entity, data: DataFrame, headers: dict[str, list[str]]) -> DataFrame:
    out_fields = [T.StructField(f.name, T.StringType()) for f in parsing.output_schema(entity)]
    out_fields[-1] = T.StructField(parsing.PARSE_ERROR, T.BooleanType())
    schema = T.StructType([*data.schema.fields, *out_fields])
    return data.mapInArrow(parsing.arrow_parser(entity, headers, "raw_line", "source_file"), schema)


def _row_hash(entity: Entity) -> F.Column:
    return F.sha2(F.to_json(F.struct(*entity.column_names)), 256)


# Below this size on disk the committed history is joined whole (Spark broadcasts it); from it on, a run reads
# only the history of its batch's keys (history_of_keys), whose cost grows with the batch, not the history.
HISTORY_BROADCAST_BELOW_BYTES = 8 << 20
KeyBounds = tuple[object, object]  # the least and greatest first key column of a batch (None, None: no key)


def relation_bytes(df: DataFrame) -> int:
    """Spark's estimate of `df`'s size: for files read, their bytes as the read listed them (no request more)."""
    return int(df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes())


def key_bounds(batch: DataFrame, key: list[str]) -> KeyBounds:
    """The batch's least and greatest value of its first key column (one Spark job, which fills a cached batch)."""
    row = batch.agg(F.min(key[0]), F.max(key[0])).first()
    return row[0], row[1]


def history_of_keys(history: DataFrame, batch: DataFrame, key: list[str], bounds: KeyBounds | None = None) -> DataFrame:
    """The rows of `history` whose key is among `batch`'s keys: one pass over the history, probing the batch's
    keys (broadcast: a batch is a landing day, the history every day), with no shuffle or sort of the history,
    so what the joins after it carry grows with the batch, not with the history.

    With the batch's `bounds`, the history is first cut to that range of its first key column, which parquet
    answers from each row group's statistics: of a key index sorted by key, a batch of recent keys (ids that
    grow with time) reads the row groups that hold them, not the whole index.
    """
    if bounds is not None:
        least, greatest = bounds
        first = F.col(key[0])
        history = history.where(first.between(least, greatest) if least is not None else F.lit(False))
    return history.join(F.broadcast(batch.select(*key).distinct()), key, "left_semi")


def _deduplicate(entity: Entity, checked: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Mark each row quarantine (it broke a rule), write, duplicate, conflicting_key (immutable entities:
    first row seen wins) or conflicting_version (versioned entities: two contents for one key and
    updated_at, first seen wins).

    Valid and invalid rows go through the same windows, partitioned apart, so the batch is parsed once.
    """
    order = ["ingest_date", "source_file", "source_line"]
    key = list(entity.key)
    valid = F.col(REASON).isNull()
    checked = checked.withColumn("_valid", valid)
    if entity.versioned:
        # Every distinct version is history; exact copies go; a second content for one version is a conflict.
        version = [*key, "updated_at"]
        whole_version = Window.partitionBy("_valid", *version).orderBy(*order)
        whole_version = whole_version.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
        by_hash = Window.partitionBy("_valid", "row_hash").orderBy(*order)
        marked = checked.withColumn("_rank", F.row_number().over(by_hash))
        marked = marked.withColumn("_first_hash", F.first("row_hash").over(whole_version))
        if existing is not None:
            # Silver holds one content per version (a second is quarantined as conflicting_version), so a row
            # whose content silver holds is the row whose version silver holds with the same hash.
            versions = existing.select(*version, F.col("row_hash").alias("_silver_hash")).dropDuplicates(version)
            marked = marked.join(versions, version, "left")
        else:
            marked = marked.withColumn("_silver_hash", F.lit(None).cast("string"))
        dup = F.coalesce(F.col("_silver_hash") == F.col("row_hash"), F.lit(False)) | (F.col("_rank") > 1)
        winner = F.coalesce(F.col("_silver_hash"), F.col("_first_hash"))
        status = (
            F.when(~F.col("_valid"), "quarantine")
            .when(dup, "duplicate")
            .when(F.col("row_hash") != winner, "conflicting_version")
            .otherwise("write")
        )
        return marked.withColumn(_STATUS, status)
    by_key = Window.partitionBy("_valid", *key).orderBy(*order)
    whole_key = by_key.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    marked = checked.withColumn("_rank", F.row_number().over(by_key)).withColumn(
        "_first_hash", F.first("row_hash").over(whole_key)
    )
    if existing is not None:
        known = existing.select(*key, F.col("row_hash").alias("_silver_hash")).dropDuplicates(key)
        marked = marked.join(known, key, "left")
    else:
        marked = marked.withColumn("_silver_hash", F.lit(None).cast("string"))
    winner = F.coalesce(F.col("_silver_hash"), F.col("_first_hash"))
    status = (
        F.when(~F.col("_valid"), "quarantine")
        .when(F.col("_silver_hash").isNull() & (F.col("_rank") == 1), "write")
        .when(F.col("row_hash") == winner, "duplicate")
        .otherwise("conflicting_key")
    )
    return marked.withColumn(_STATUS, status)


def transform(
    spark: SparkSession,
    entity: Entity,
    lines: DataFrame,
    existing: DataFrame | None,
    job_run_id: str,
    loaded_at: datetime | None = None,
    first_lines: dict[str, str | None] | None = None,
) -> BatchResult:
    """Classify every data line of a batch and shape the silver and quarantine rows (`first_lines`: each file's
    first line, as read_batch brings them back)."""
    spark.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")
    # Plain microsecond timestamps in parquet: what DuckDB, PostgreSQL loaders and Redshift COPY read best.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    headers = _csv_headers(entity, lines, first_lines)
    required = [c.name for c in entity.columns if c.required]
    missing = {f: [c for c in required if c not in h] for f, h in headers.items()}
    missing = {f: cols for f, cols in missing.items() if cols}
    drift = {f: sorted(set(h) - set(entity.column_names)) for f, h in headers.items()}

    if FILE_REASON not in lines.columns:  # lines built by hand, not read from files
        lines = lines.withColumn(FILE_REASON, F.lit(None).cast("string"))
    data_line = F.trim("raw_line") != ""
    if entity.format == "csv":
        data_line = data_line & (F.col("source_line") > 1)
    data = lines.where(F.col(FILE_REASON).eqNullSafe("corrupt_compression") | data_line)
    checked = validate(entity, _parse(entity, data, headers))
    if missing:
        whole_file = F.col("source_file").isin(*missing)
        missing_cols = F.create_map(*[x for f, cols in missing.items() for x in (F.lit(f), F.lit(",".join(cols)))])
        checked = checked.withColumn(REASON, F.when(whole_file, "missing_column").otherwise(F.col(REASON)))
        checked = checked.withColumn(
            REASON_COLUMN, F.when(whole_file, missing_cols[F.col("source_file")]).otherwise(F.col(REASON_COLUMN))
        )
    # A file that cannot be read as text is quarantined whole, whatever its lines look like.
    whole_file = F.col(FILE_REASON).isNotNull()
    checked = checked.withColumn(REASON, F.when(whole_file, F.col(FILE_REASON)).otherwise(F.col(REASON)))
    checked = checked.withColumn(REASON_COLUMN, F.when(whole_file, None).otherwise(F.col(REASON_COLUMN)))
    checked = checked.withColumn("row_hash", _row_hash(entity))
    cached = []
    if existing is not None and relation_bytes(existing) >= HISTORY_BROADCAST_BELOW_BYTES:
        # Parsed once, before the history's filter and the windows both read it (each would parse it again).
        cached.append(checked.persist())
        existing = history_of_keys(existing, checked, list(entity.key), key_bounds(checked, list(entity.key)))

    classified = _deduplicate(entity, checked, existing)
    conflict = F.col(_STATUS).isin(*_CONFLICTS)
    version_columns = ",".join([*entity.key, "updated_at"] if entity.versioned else entity.key)
    classified = classified.withColumn(REASON, F.when(conflict, F.col(_STATUS)).otherwise(F.col(REASON)))
    classified = classified.withColumn(
        REASON_COLUMN, F.when(conflict, F.lit(version_columns)).otherwise(F.col(REASON_COLUMN))
    )
    classified = classified.persist()

    # One pass over the batch gives every count, the files read and the drift seen.
    summary = classified.groupBy(_STATUS, REASON, "ingest_date", "source_file", parsing.EXTRA).count().collect()
    files = sorted({r.source_file for r in summary} | set(headers))
    for r in summary:
        if r[parsing.EXTRA]:
            drift[r.source_file] = sorted(set(drift.get(r.source_file, [])) | set(r[parsing.EXTRA].split(",")))

    quarantined: Counter[str] = Counter()
    written = deduplicated = 0
    silver_days: set[str] = set()
    quarantine_days: set[str] = set()
    for r in summary:
        status = r[_STATUS]
        if status == "write":
            written += r["count"]
            silver_days.add(r.ingest_date)
        elif status == "duplicate":
            deduplicated += r["count"]
        else:
            quarantined[r[REASON]] += r["count"]
            quarantine_days.add(r.ingest_date)

    run_cols = [F.lit(job_run_id).alias("job_run_id"), F.lit(loaded_at).cast("timestamp").alias("loaded_at")]
    silver = classified.where(F.col(_STATUS) == "write").select(
        *entity.column_names, "source_file", "source_line", "ingest_date", *run_cols, "row_hash"
    )
    quarantine = classified.where(F.col(_STATUS).isin("quarantine", *_CONFLICTS)).select(
        F.lit(entity.name).alias("entity"),
        F.col(REASON).alias("reason"),
        F.col(REASON_COLUMN).alias("reason_column"),
        "raw_line",
        "source_file",
        "source_line",
        "ingest_date",
        *run_cols,
    )
    result = BatchResult(
        silver=silver,
        quarantine=quarantine,
        files=files,
        rows_read=sum(r["count"] for r in summary),
        rows_written=written,
        rows_quarantined=dict(sorted(quarantined.items())),
        rows_deduplicated=deduplicated,
        schema_drift=[{"file": f, "extra_columns": cols} for f, cols in sorted(drift.items()) if cols],
        silver_ingest_dates=sorted(silver_days),
        quarantine_ingest_dates=sorted(quarantine_days),
        cached=[*cached, classified],
    )
    result.check()
    return result


def identity_columns(entity: Entity) -> list[str]:
    """What deduplication needs of a committed silver row: its key, its version and its content hash."""
    return [*entity.key, *(["updated_at"] if entity.versioned else []), "row_hash"]


def identity_schema(entity: Entity) -> T.StructType:
    """`identity_columns` with their silver types: read with it, the history needs no look at a parquet footer
    (Spark runs a job to infer a schema)."""
    types = {c.name: silver_type(c) for c in entity.columns}
    return T.StructType([T.StructField(name, types.get(name, T.StringType())) for name in identity_columns(entity)])


def write_key_index(identities: DataFrame, entity: Entity, uri: str) -> None:
    """One parquet file of `identities`, sorted by key in small row groups, so that a run reads the row groups of
    its batch's key range (history_of_keys)."""
    by_key = identities.coalesce(1).sortWithinPartitions(*entity.key)
    by_key.write.mode("overwrite").option("parquet.block.size", silver_store.KEY_INDEX_ROW_GROUP_BYTES).parquet(uri)


def _write_by_day(rows: DataFrame, days: list[str], root: str) -> None:
    """Append `rows` under `root`, one file per landing day and run (S3 pays per object, not per byte): each
    day's rows go to one task, and a batch of one day, the daily case, needs no shuffle to get there."""
    by_day = rows.coalesce(1) if len(days) == 1 else rows.repartition("ingest_date")
    by_day.write.mode("append").partitionBy("ingest_date", "job_run_id").parquet(root)


def _nothing_read(manifest: dict, replayed: int) -> dict:
    return {
        **manifest,
        "files_read": [],
        "files_already_committed": replayed,
        "rows_read": 0,
        "rows_written": 0,
        "rows_quarantined": {},
        "rows_quarantined_total": 0,
        "rows_deduplicated": 0,
        "schema_drift": [],
    }


def run(
    spark: SparkSession,
    entity: Entity,
    raw_lines: DataFrame,
    staging_bucket: str,
    job_name: str,
    job_run_id: str,
) -> dict:
    """Process one batch end to end: silver, quarantine, then the manifest that commits them.

    A file that a committed run already read is skipped whole (bronze is immutable, so its rows are
    accounted for): a bookmark reset, a disabled bookmark or a crash before the bookmark commit
    replays nothing twice. Deduplication reads the key index and the few partitions outside it,
    so a run costs what its batch costs, not what the history holds.
    """
    started_at = datetime.now(UTC)
    manifest = {"job_name": job_name, "job_run_id": job_run_id, "entity": entity.name}
    new_files = raw_lines.inputFiles()
    if not new_files and raw_lines.isEmpty():  # nothing new since the bookmark: not even a listing
        return _nothing_read(manifest, 0)
    state = silver_store.committed_state(spark, staging_bucket, entity.name)
    already_read = {f for m in state.manifests for f in m.get("files_read", [])}
    batch = read_batch(spark, raw_lines, already_read)
    lines = batch.lines
    replayed = len(already_read.intersection(new_files))
    if batch.empty:  # every file already committed: nothing written
        lines.unpersist()
        return _nothing_read(manifest, replayed)
    columns = identity_columns(entity)
    existing = silver_store.read_identities(spark, staging_bucket, entity.name, state, identity_schema(entity))
    result = transform(spark, entity, lines, existing, job_run_id, first_lines=batch.first_lines)
    manifest |= {
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files_read": result.files,
        "files_already_committed": replayed,
        "rows_read": result.rows_read,
        "rows_written": result.rows_written,
        "rows_quarantined": result.rows_quarantined,
        "rows_quarantined_total": sum(result.rows_quarantined.values()),
        "rows_deduplicated": result.rows_deduplicated,
        "schema_drift": result.schema_drift,
        "silver_ingest_dates": result.silver_ingest_dates,
        "quarantine_ingest_dates": result.quarantine_ingest_dates,
    }
    # Silver last: writing under silver/ makes Spark drop every cached plan that reads silver/, the
    # batch's classified rows among them (they were deduplicated against it), so a write after that
    # one would classify the batch all over again.
    if manifest["rows_quarantined_total"]:
        _write_by_day(
            result.quarantine, result.quarantine_ingest_dates, silver_store.quarantine_root(staging_bucket, entity.name)
        )
    key_index, covers = state.key_index, state.key_index_covers
    outside = silver_store.partitions_outside_key_index(state) + len(result.silver_ingest_dates)
    if result.rows_written and outside >= silver_store.KEY_INDEX_REWRITE_AT:
        # The identities of every committed row and of this run's, in one file, for the runs to come.
        own = result.silver.select(*columns)
        rows = own if existing is None else existing.unionByName(own)
        key_index = [silver_store.key_index_key(entity.name, job_run_id)]
        write_key_index(rows, entity, f"s3://{staging_bucket}/{key_index[0]}")
        covers = state.run_ids | {job_run_id}
    if result.rows_written:
        _write_by_day(result.silver, result.silver_ingest_dates, silver_store.silver_root(staging_bucket, entity.name))
    # Compare before the commit: a run that committed any of these files since this one started wins.
    since = silver_store.committed_state(spark, staging_bucket, entity.name)
    taken = {f for m in since.manifests for f in m.get("files_read", [])}.intersection(result.files)
    if taken:
        result.release()
        lines.unpersist()
        raise ConcurrentRunError(
            f"another run of {job_name} committed {len(taken)} of this run's {len(result.files)} file(s) while it "
            "ran, so this run committed nothing (its parquet stays invisible); run one job at a time"
        )
    since.key_index, since.key_index_covers = key_index, covers
    manifest["checkpoint"] = silver_store.write_checkpoint(spark, staging_bucket, manifest, since)
    # Written last, in one PUT: the manifest is what commits the run for readers.
    manifest["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    manifest["manifest"] = silver_store.write_manifest(spark, staging_bucket, manifest)
    result.release()
    lines.unpersist()
    return manifest
