# Incoming events: a Kinesis data stream, and a Firehose delivery stream that lands them in the data
# bucket under events/, partitioned by arrival time, compressed.

locals {
  # Where the delivery stream writes; its role may write there and nowhere else in the bucket.
  events_prefix        = "events/raw/"
  events_errors_prefix = "events/errors/"
}

resource "aws_kinesis_stream" "events" {
  name             = "${local.name}-events"
  shard_count      = var.event_stream_shards > 0 ? var.event_stream_shards : null
  retention_period = var.event_stream_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = "alias/aws/kinesis" # AWS-managed: consumers need no KMS grant

  stream_mode_details {
    # On demand suits short-lived and spiky environments; a steady prod load is cheaper provisioned.
    stream_mode = var.event_stream_shards > 0 ? "PROVISIONED" : "ON_DEMAND"
  }
}

resource "aws_cloudwatch_log_group" "firehose" {
  #checkov:skip=CKV_AWS_338:retention from the var files (log_retention_days: 365 in prod, 30 elsewhere, 3 for pr-<n>)

  name              = "/aws/kinesisfirehose/${local.name}-events-to-s3"
  retention_in_days = var.ephemeral ? 3 : var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_cloudwatch_log_stream" "firehose_delivery" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # Only Firehose acting for this account may use the role (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${local.name}-firehose"
  description        = "Firehose of ${local.prefix}: reads the event stream, writes the data bucket"
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
    resources = [aws_kinesis_stream.events.arn]
  }

  statement {
    sid       = "ListTheDataBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.data.arn]
  }

  statement {
    # Its two prefixes only: never glue/scripts/ (code the Glue jobs run) or another pipeline's data.
    sid     = "WriteItsPrefixes"
    actions = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = [
      "${aws_s3_bucket.data.arn}/${local.events_prefix}*",
      "${aws_s3_bucket.data.arn}/${local.events_errors_prefix}*",
    ]
  }

  statement {
    sid       = "WriteDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:*"]
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
  name   = "deliver-events"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

resource "aws_kinesis_firehose_delivery_stream" "events" {
  name        = "${local.name}-events-to-s3"
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = aws_iam_role.firehose.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = aws_s3_bucket.data.arn
    prefix              = "${local.events_prefix}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    error_output_prefix = "${local.events_errors_prefix}!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    buffering_size      = var.firehose_buffer_mb
    buffering_interval  = var.firehose_buffer_seconds
    compression_format  = "GZIP"
    kms_key_arn         = var.kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose_delivery.name
    }
  }

  # The role's permissions must exist before Firehose first tries the stream.
  depends_on = [aws_iam_role_policy.firehose]
}
