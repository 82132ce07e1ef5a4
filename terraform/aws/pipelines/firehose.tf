# Extra Firehose delivery streams from rendered firehose/*.json (the shape of Firehose's
# CreateDeliveryStream request: DeliveryStreamName and ExtendedS3DestinationConfiguration's Prefix,
# ErrorOutputPrefix, BufferingHints, CompressionFormat). Each reads the environment's event stream and
# writes under its prefix in the data bucket; source and bucket are the environment's, never the file's.

resource "aws_cloudwatch_log_group" "firehose" {
  count = length(local.firehoses) == 0 ? 0 : 1

  name              = "/aws/kinesisfirehose/${local.name}-pipelines"
  retention_in_days = local.log_retention_days
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
    sid       = "WriteTheirPrefixes"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = [for key, stream in local.firehoses : "${local.bucket_arn}/${local.firehose_prefixes[key]}*"]
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
  firehose_s3 = { for key, stream in local.firehoses : key => try(stream.ExtendedS3DestinationConfiguration, {}) }
  # The static part of a prefix (before any !{...} expression) bounds what the role may write.
  firehose_prefixes = { for key, s3 in local.firehose_s3 : key => split("!{", try(s3.Prefix, "pipelines/${key}/"))[0] }
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
    prefix              = try(local.firehose_s3[each.key].Prefix, "pipelines/${each.key}/")
    error_output_prefix = try(local.firehose_s3[each.key].ErrorOutputPrefix, "pipelines-errors/${each.key}/!{firehose:error-output-type}/")
    buffering_size      = try(local.firehose_s3[each.key].BufferingHints.SizeInMBs, 64)
    buffering_interval  = try(local.firehose_s3[each.key].BufferingHints.IntervalInSeconds, 300)
    compression_format  = try(local.firehose_s3[each.key].CompressionFormat, "GZIP")
    kms_key_arn         = var.kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose[0].name
      log_stream_name = "S3Delivery-${each.key}"
    }
  }

  lifecycle {
    precondition {
      condition     = startswith(each.value.DeliveryStreamName, "${local.prefix}-") && length(each.value.DeliveryStreamName) <= 64
      error_message = "firehose/${each.key}.json: DeliveryStreamName must start with ${local.prefix}- and be at most 64 characters."
    }
  }

  depends_on = [aws_iam_role_policy.firehose, aws_cloudwatch_log_stream.firehose]
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each = local.firehoses

  name           = "S3Delivery-${each.key}"
  log_group_name = aws_cloudwatch_log_group.firehose[0].name
}
