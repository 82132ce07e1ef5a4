"""Glue ETL job: raw order events (gzipped JSON lines that Firehose lands under events/raw/) to curated
Parquet under curated/order_events/, partitioned by event date, one row per event id.

Job arguments: --data_bucket (the environment's data bucket), optional --source_prefix/--target_prefix.
Runs on Glue 4.0/5.0 (PySpark); the awsglue module only exists inside Glue.
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

REQUIRED = ["JOB_NAME", "data_bucket"]
OPTIONAL = {"source_prefix": "events/raw/", "target_prefix": "curated/order_events/"}


def options(argv):
    present = [name for name in OPTIONAL if f"--{name}" in argv]
    args = getResolvedOptions(argv, REQUIRED + present)
    return {**OPTIONAL, **args}


def curate(events):
    """Keep well-formed order events, typed, deduplicated on event_id, with an event_date partition."""
    return (
        events.where(F.col("event_id").isNotNull() & F.col("order_id").isNotNull())
        .where(F.col("type").startswith("order."))
        .select(
            F.col("event_id").cast("string"),
            F.col("type").cast("string").alias("event_type"),
            F.col("order_id").cast("long"),
            F.col("customer_id").cast("long"),
            F.col("status").cast("string"),
            F.col("total_amount").cast("decimal(12,2)"),
            F.to_timestamp("occurred_at").alias("occurred_at"),
        )
        .where(F.col("occurred_at").isNotNull())
        .dropDuplicates(["event_id"])
        .withColumn("event_date", F.to_date("occurred_at"))
    )


def main():
    args = options(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    bucket = args["data_bucket"]
    events = spark.read.json(f"s3://{bucket}/{args['source_prefix']}")  # gzip is read transparently
    curated = curate(events)
    (
        curated.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")  # rewrite only the dates this run saw
        .partitionBy("event_date")
        .parquet(f"s3://{bucket}/{args['target_prefix']}")
    )
    job.commit()


if __name__ == "__main__":
    main()
