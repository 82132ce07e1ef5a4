"""Glue ETL script: raw order files -> curated, partitioned Parquet (arguments: --source, --target)."""

import sys

from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext  # type: ignore[import-not-found]

args = getResolvedOptions(sys.argv, ["source", "target"])
glue = GlueContext(SparkContext.getOrCreate())
orders = glue.spark_session.read.json(args["source"])
orders.dropDuplicates(["order_id"]).write.mode("overwrite").partitionBy("order_date").parquet(args["target"])
