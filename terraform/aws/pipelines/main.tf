# Names, tags, and the rendered definitions read from the folder toolkit wrote them to.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  prefix = "${var.project}-${var.environment}"
  # Same rule as terraform/aws/infra: names are `name` plus a suffix, `name` at most 40 characters.
  name = length(local.prefix) <= 40 ? local.prefix : "${trimsuffix(substr(local.prefix, 0, 32), "-")}-${substr(sha256(local.prefix), 0, 7)}"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  bucket_arn = "arn:${local.partition}:s3:::${var.data_bucket}"
  stream_arn = "arn:${local.partition}:kinesis:${var.region}:${local.account_id}:stream/${var.event_stream}"

  tags = merge(
    {
      project     = var.project
      environment = var.environment
      managed-by  = "toolkit"
      owner       = var.owner
    },
    var.ttl == null ? {} : { ttl = var.ttl },
    var.expires_at == null ? {} : { expires-at = var.expires_at },
  )

  rendered = var.rendered_pipelines_dir
  # "<kind>/<name>" => SHA-256 of every rendered file: the same map terraform/local/pipelines outputs.
  pipelines = { for path in fileset(local.rendered, "**/*.json") : trimsuffix(path, ".json") => filesha256("${local.rendered}/${path}") }

  # <name> => decoded definition, one map per kind.
  glue_jobs      = { for f in fileset("${local.rendered}/glue", "*.json") : trimsuffix(f, ".json") => jsondecode(file("${local.rendered}/glue/${f}")) }
  state_machines = { for f in fileset("${local.rendered}/stepfunctions", "*.json") : trimsuffix(f, ".json") => "${local.rendered}/stepfunctions/${f}" }
  firehoses      = { for f in fileset("${local.rendered}/firehose", "*.json") : trimsuffix(f, ".json") => jsondecode(file("${local.rendered}/firehose/${f}")) }
  data_pipelines = { for f in fileset("${local.rendered}/datapipeline", "*.json") : trimsuffix(f, ".json") => jsondecode(file("${local.rendered}/datapipeline/${f}")) }

  log_retention_days = var.ephemeral ? 3 : var.log_retention_days
}
