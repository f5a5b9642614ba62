"""A small Glue job's worth of work on local files, run once by `ecomdwh setup` so the JVM can record
the classes it loads into the class-data archive (glue_local.runtime.spark.ensure_class_archive)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from ecomdwh.contract import ENTITIES
from ecomdwh.settings import load_settings
from glue_local.etl import bronze_to_silver
from glue_local.runtime.spark import get_spark

_ORDER = {"order_id": "O1", "customer_id": "C1", "order_ts": "2026-01-01T10:00:00Z", "status": "placed",
          "channel": "web", "updated_at": "2026-01-01T10:00:00Z"}  # fmt: skip
_CUSTOMER = "C1,a@example.com,Ana,Silva,Lisbon,LX,PT,consumer,2026-01-01,2026-01-01T10:00:00Z"


def _bronze(root: Path) -> dict[str, str]:
    orders = root / "orders.jsonl"
    orders.write_text(json.dumps(_ORDER) + "\n" + json.dumps({**_ORDER, "order_id": ""}) + "\nnot json\n")
    customers = root / "customers.csv"
    customers.write_text(",".join(ENTITIES["customers"].column_names) + "\n" + _CUSTOMER + "\n")
    return {"orders": orders.as_uri(), "customers": customers.as_uri()}


def main(record_classes_to: Path) -> None:
    spark = get_spark(load_settings(), app_name="ecomdwh-warm-up", record_classes_to=record_classes_to)
    with tempfile.TemporaryDirectory(prefix="ecomdwh-warm-up-") as tmp:
        for name, uri in _bronze(Path(tmp)).items():
            entity = ENTITIES[name]
            batch = bronze_to_silver.read_batch(spark, bronze_to_silver.read_raw_lines(spark, [uri]), set())
            lines, heads = batch.lines, batch.first_lines
            first = bronze_to_silver.transform(spark, entity, lines, None, "jr_warm_up_1", first_lines=heads)
            silver = Path(tmp, "silver", name).as_uri()
            first.silver.repartition("ingest_date").write.partitionBy("ingest_date", "job_run_id").parquet(silver)
            first.quarantine.write.parquet(Path(tmp, "quarantine", name).as_uri())
            existing = spark.read.parquet(silver).select(*bronze_to_silver.identity_columns(entity))
            again = bronze_to_silver.transform(spark, entity, lines, existing, "jr_warm_up_2", first_lines=heads)
            again.silver.coalesce(1).write.parquet(Path(tmp, "key_index", name).as_uri())
    # The S3 filesystem's classes, without a request to anywhere.
    spark.sparkContext._jvm.org.apache.hadoop.fs.s3a.S3AFileSystem()
    jvm = spark.sparkContext._gateway.proc
    spark.stop()
    # The JVM writes the archive as it exits, which it does when its stdin closes; its output goes to a log
    # file, not to our pipes, so nothing else makes `ecomdwh setup` wait for the archive to be whole.
    jvm.stdin.close()
    jvm.wait(timeout=600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
