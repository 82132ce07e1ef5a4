# Glue jobs from rendered glue/*.json (the shape of Glue's CreateJob request), their scripts uploaded
# from pipelines/glue/scripts to the data bucket, and the one role the jobs run as.

locals {
  script_prefix = "glue/scripts/"
  script_files  = fileset(var.glue_scripts_dir, "*.py")
  # A definition names its script by file name (its ScriptLocation's last part): the stack decides
  # where scripts live, so the same rendered definition works in every environment.
  # Without a ScriptLocation, glue/<name>.json runs <name>.py.
  job_scripts = { for key, job in local.glue_jobs : key => basename(try(job.Command.ScriptLocation, "${key}.py")) }
  # Python shell jobs are sized in DPUs (MaxCapacity); Spark jobs in workers.
  python_shell = { for key, job in local.glue_jobs : key => try(job.Command.Name, "glueetl") == "pythonshell" }
}

resource "aws_s3_object" "glue_script" {
  for_each = local.script_files

  bucket = var.data_bucket
  key    = "${local.script_prefix}${each.value}"
  source = "${var.glue_scripts_dir}/${each.value}"
  # Not etag: with the bucket's SSE-KMS default the ETag is no MD5, so etag = filemd5 would never
  # settle. source_hash triggers the same re-upload on a changed file.
  source_hash  = filemd5("${var.glue_scripts_dir}/${each.value}")
  content_type = "text/x-python"
}

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "glue" {
  name               = "${local.name}-glue"
  description        = "Glue jobs of ${local.prefix}: read their scripts, read and write the data bucket"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ReadScripts"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${local.script_prefix}*"]
  }

  statement {
    sid       = "ListTheDataBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "ReadWriteData"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arn}/events/*", "${local.bucket_arn}/curated/*", "${local.bucket_arn}/glue/tmp/*"]
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws-glue/*"]
  }

  statement {
    sid       = "PublishJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the namespace condition narrows it

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseTheBucketKey"
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

resource "aws_iam_role_policy" "glue" {
  name   = "run-jobs"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}

resource "aws_glue_job" "job" {
  for_each = local.glue_jobs

  name        = each.value.Name
  description = try(each.value.Description, null)
  # A definition may name a role of its own (Glue's Role, a name or an ARN); otherwise the stack's
  # least-privilege role.
  role_arn = try(
    startswith(each.value.Role, "arn:") ? each.value.Role : "arn:${local.partition}:iam::${local.account_id}:role/${each.value.Role}",
    aws_iam_role.glue.arn,
  )

  command {
    name            = try(each.value.Command.Name, "glueetl")
    script_location = "s3://${var.data_bucket}/${local.script_prefix}${local.job_scripts[each.key]}"
    python_version  = try(each.value.Command.PythonVersion, "3")
  }

  default_arguments = merge(
    {
      "--job-language"                     = "python"
      "--TempDir"                          = "s3://${var.data_bucket}/glue/tmp/"
      "--enable-metrics"                   = "true"
      "--enable-continuous-cloudwatch-log" = "true"
    },
    try(each.value.DefaultArguments, {}),
  )
  non_overridable_arguments = try(each.value.NonOverridableArguments, null)

  glue_version      = try(each.value.GlueVersion, local.python_shell[each.key] ? "3.0" : "5.0")
  worker_type       = local.python_shell[each.key] ? null : try(each.value.WorkerType, "G.1X")
  number_of_workers = local.python_shell[each.key] ? null : try(each.value.NumberOfWorkers, 2)
  max_capacity      = local.python_shell[each.key] ? try(each.value.MaxCapacity, 0.0625) : null
  timeout           = try(each.value.Timeout, 60)
  max_retries       = try(each.value.MaxRetries, 0)

  execution_property {
    max_concurrent_runs = try(each.value.ExecutionProperty.MaxConcurrentRuns, 1)
  }

  lifecycle {
    precondition {
      condition     = contains(local.script_files, local.job_scripts[each.key])
      error_message = "glue/${each.key}.json runs ${local.job_scripts[each.key]}, which is not in ${var.glue_scripts_dir}."
    }
    precondition {
      # Environments may share an account: a job named for another environment would be taken over.
      condition     = startswith(each.value.Name, "${local.prefix}-")
      error_message = "glue/${each.key}.json: the job name ${each.value.Name} must start with ${local.prefix}-."
    }
  }

  depends_on = [aws_s3_object.glue_script, aws_iam_role_policy.glue]
}
