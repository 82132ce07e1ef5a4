# Extra Firehose delivery streams from rendered firehose/*.json (the shape of Firehose's
# CreateDeliveryStream request: DeliveryStreamName, Tags and ExtendedS3DestinationConfiguration's Prefix,
# ErrorOutputPrefix, BufferingHints, CompressionFormat, CustomTimeZone, FileExtension). Each reads the
# environment's event stream and writes under its two prefixes in the data bucket; source, bucket and
# role are the environment's (a definition naming others fails the plan), and a field the stack does
# not deploy fails the plan instead of being dropped.

resource "aws_cloudwatch_log_group" "firehose" {
  #checkov:skip=CKV_AWS_338:retention from the var files (log_retention_days: 365 in prod, 30 elsewhere, 3 for pr-<n>)

  count = length(local.firehoses) == 0 ? 0 : 1

  name              = "/aws/kinesisfirehose/${local.name}-pipelines"
  retention_in_days = local.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  count = length(local.firehoses) == 0 ? 0 : 1

  name               = "${local.name}-firehose-pipelines"
  description        = "Pipeline delivery streams of ${local.prefix}: read the event stream, write their prefixes"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid = "ReadTheEventStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetShardIterator",
      "kinesis:GetRecords",
      "kinesis:ListShards",
    ]
    resources = [local.stream_arn]
  }

  statement {
    sid       = "ListTheDataBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }

  statement {
    # Delivered records and failed ones (ErrorOutputPrefix), under each stream's own prefixes only.
    sid     = "WriteTheirPrefixes"
    actions = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = distinct(flatten([
      for key, prefixes in local.firehose_prefixes : [for prefix in prefixes : "${local.bucket_arn}/${prefix}*"]
    ]))
  }

  statement {
    sid       = "WriteDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/kinesisfirehose/${local.name}-pipelines:log-stream:*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "EncryptWithTheBucketKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "firehose" {
  count = length(local.firehoses) == 0 ? 0 : 1

  name   = "deliver-pipeline-streams"
  role   = aws_iam_role.firehose[0].id
  policy = data.aws_iam_policy_document.firehose.json
}

locals {
  firehose_s3     = { for key, stream in local.firehoses : key => try(stream.ExtendedS3DestinationConfiguration, {}) }
  firehose_prefix = { for key, s3 in local.firehose_s3 : key => try(s3.Prefix, "pipelines/${key}/") }
  firehose_error_prefix = {
    for key, s3 in local.firehose_s3 : key => try(s3.ErrorOutputPrefix, "pipelines-errors/${key}/!{firehose:error-output-type}/")
  }
  # The static parts of both prefixes (before any !{...} expression) bound what the role may write.
  firehose_prefixes = {
    for key in keys(local.firehoses) : key => [
      split("!{", local.firehose_prefix[key])[0],
      split("!{", local.firehose_error_prefix[key])[0],
    ]
  }

  # The fields mapped below (docs/aws.md). Anything else (other sources or destinations, processing,
  # format conversion, dynamic partitioning, backups, a role or encryption of its own) fails the plan.
  firehose_fields    = ["DeliveryStreamName", "DeliveryStreamType", "KinesisStreamSourceConfiguration", "ExtendedS3DestinationConfiguration", "Tags"]
  firehose_s3_fields = ["BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints", "CompressionFormat", "CustomTimeZone", "FileExtension"]
  firehose_unsupported = {
    for key, stream in local.firehoses : key => sort(concat(
      tolist(setsubtract(keys(stream), local.firehose_fields)),
      [for field in keys(local.firehose_s3[key]) : "ExtendedS3DestinationConfiguration.${field}" if !contains(local.firehose_s3_fields, field)],
      [for field in keys(try(stream.KinesisStreamSourceConfiguration, {})) : "KinesisStreamSourceConfiguration.${field}" if field != "KinesisStreamARN"],
    ))
  }
}

resource "aws_kinesis_firehose_delivery_stream" "pipeline" {
  for_each = local.firehoses

  name        = each.value.DeliveryStreamName
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = local.stream_arn
    role_arn           = aws_iam_role.firehose[0].arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose[0].arn
    bucket_arn          = local.bucket_arn
    prefix              = local.firehose_prefix[each.key]
    error_output_prefix = local.firehose_error_prefix[each.key]
    buffering_size      = try(local.firehose_s3[each.key].BufferingHints.SizeInMBs, 64)
    buffering_interval  = try(local.firehose_s3[each.key].BufferingHints.IntervalInSeconds, 300)
    compression_format  = try(local.firehose_s3[each.key].CompressionFormat, "GZIP")
    custom_time_zone    = try(local.firehose_s3[each.key].CustomTimeZone, null)
    file_extension      = try(local.firehose_s3[each.key].FileExtension, null)
    kms_key_arn         = var.kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose[0].name
      log_stream_name = "S3Delivery-${each.key}"
    }
  }

  tags = { for tag in try(each.value.Tags, []) : tag.Key => try(tag.Value, "") }

  lifecycle {
    precondition {
      condition     = startswith(each.value.DeliveryStreamName, "${local.prefix}-") && length(each.value.DeliveryStreamName) <= 64
      error_message = "firehose/${each.key}.json: DeliveryStreamName must start with ${local.prefix}- and be at most 64 characters."
    }
    precondition {
      condition = (
        try(each.value.DeliveryStreamType, "KinesisStreamAsSource") == "KinesisStreamAsSource" &&
        try(each.value.KinesisStreamSourceConfiguration.KinesisStreamARN, local.stream_arn) == local.stream_arn &&
        try(local.firehose_s3[each.key].BucketARN, local.bucket_arn) == local.bucket_arn
      )
      error_message = "firehose/${each.key}.json: the stream reads the environment's event stream (${local.stream_arn}) into its data bucket (${local.bucket_arn}); the definition names another source or bucket."
    }
    precondition {
      # A prefix that starts with an expression, or lands under glue/, would let the role write anywhere
      # in the bucket, or over the scripts the Glue jobs run.
      condition     = alltrue([for prefix in local.firehose_prefixes[each.key] : prefix != "" && !startswith(prefix, "glue/")])
      error_message = "firehose/${each.key}.json: Prefix and ErrorOutputPrefix must each start with a literal folder outside glue/ (static parts: ${join(", ", local.firehose_prefixes[each.key])})."
    }
    precondition {
      condition     = length(local.firehose_unsupported[each.key]) == 0
      error_message = "firehose/${each.key}.json sets ${join(", ", local.firehose_unsupported[each.key])}, which the stack does not deploy (docs/aws.md lists what it maps)."
    }
  }

  depends_on = [aws_iam_role_policy.firehose, aws_cloudwatch_log_stream.firehose]
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each = local.firehoses

  name           = "S3Delivery-${each.key}"
  log_group_name = aws_cloudwatch_log_group.firehose[0].name
}
