"""Glue 5.0 job: bronze -> silver for one entity of the data contract.

Deployed once per entity (terraform passes --entity); run locally, unchanged,
by `ecomdwh glue run`. Wiring only: the logic is glue_local.etl.bronze_to_silver.

Arguments: --JOB_NAME --entity --raw_bucket --staging_bucket
           [--ingest_date YYYY-MM-DD] [--job-bookmark-option ...]
"""

import json
import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from ecomdwh.contract import ENTITIES
from glue_local.etl import bronze_to_silver

args = getResolvedOptions(sys.argv, ["JOB_NAME", "entity", "raw_bucket", "staging_bucket"])
ingest_date = getResolvedOptions(sys.argv, ["ingest_date"])["ingest_date"] if "--ingest_date" in sys.argv else None
entity = ENTITIES[args["entity"]]

glue_context = GlueContext(SparkContext.getOrCreate())
spark = glue_context.spark_session
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

bronze = glue_context.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={
        "paths": [bronze_to_silver.bronze_path(args["raw_bucket"], entity, ingest_date)],
        "recurse": True,
    },
    format="csv",
    format_options=bronze_to_silver.RAW_LINES_FORMAT,
    transformation_ctx=f"bronze_{entity.name}",
)
manifest = bronze_to_silver.run(
    spark,
    entity,
    bronze.toDF(),
    staging_bucket=args["staging_bucket"],
    job_name=args["JOB_NAME"],
    job_run_id=args.get("JOB_RUN_ID") or "jr_local",
)
glue_context.get_logger().info(json.dumps({k: v for k, v in manifest.items() if k != "files_read"}, sort_keys=True))

job.commit()
