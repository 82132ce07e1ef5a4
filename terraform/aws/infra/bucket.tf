# The data bucket pipelines land their data in.
#
# Encryption: SSE-KMS with S3 Bucket Keys. Without kms_key_arn it uses the AWS-managed aws/s3 key:
# every decrypt is auditable in CloudTrail, no key to manage or pay for per environment, and no extra
# KMS grants for Firehose or Glue (the managed key serves any principal allowed by S3 itself). Teams
# that must control the key (cross-account readers, key rotation policy) set kms_key_arn.

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:access logs need a log bucket per account (or CloudTrail data events): the account's concern, not an environment's
  #checkov:skip=CKV_AWS_144:one region per environment; cross-region copies are the account's backup policy
  #checkov:skip=CKV2_AWS_62:no consumer of bucket events yet; the pipelines are scheduled

  bucket = "${local.name}-data-${local.account_id}" # the account id keeps the global name unique
  # Only an ephemeral environment's bucket may be deleted with its objects.
  force_destroy = var.ephemeral
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off: access is decided by policies alone
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket = aws_s3_bucket.data.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "data_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data.arn,
      "${aws_s3_bucket.data.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.data_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.ephemeral ? 1 : 30
    }
  }

  # A short-lived environment's data is disposable: it expires even if the environment is never torn down.
  dynamic "rule" {
    for_each = var.ephemeral ? [1] : []

    content {
      id     = "ephemeral-expiry"
      status = "Enabled"

      filter {}

      expiration {
        days = var.ephemeral_object_expiry_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}
