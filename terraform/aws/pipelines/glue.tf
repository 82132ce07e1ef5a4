# Glue jobs from rendered glue/*.json (the shape of Glue's CreateJob request), their scripts uploaded
# from pipelines/glue/scripts to the data bucket, and the two roles they run as: `glue` (jobs and
# crawlers working on the data bucket) and `glue-database` (jobs that name the environment's Glue
# connection: they run in the databases' VPC and may read the warehouse's secret). A definition cannot
# pick another role, and a field the stack does not deploy fails the plan instead of being dropped.

locals {
  script_prefix = "glue/scripts/"
  script_files  = fileset(var.glue_scripts_dir, "*.py")
  # A definition names its script by file name (its ScriptLocation's last part): the stack decides
  # where scripts live, so the same rendered definition works in every environment.
  # Without a ScriptLocation, glue/<name>.json runs <name>.py.
  job_scripts = { for key, job in local.glue_jobs : key => basename(try(job.Command.ScriptLocation, "${key}.py")) }
  # Python shell jobs are sized in DPUs (MaxCapacity); Spark jobs in workers.
  python_shell = { for key, job in local.glue_jobs : key => try(job.Command.Name, "glueetl") == "pythonshell" }

  # The CreateJob fields mapped below (docs/aws.md lists them). LogUri, AllocatedCapacity, JobMode,
  # SecurityConfiguration, CodeGenConfigurationNodes and SourceControlDetails are not deployed.
  glue_job_fields = [
    "Name", "Description", "Role", "Command", "DefaultArguments", "NonOverridableArguments", "Connections",
    "MaxRetries", "Timeout", "MaxCapacity", "WorkerType", "NumberOfWorkers", "GlueVersion", "ExecutionClass",
    "ExecutionProperty", "NotificationProperty", "JobRunQueuingEnabled", "MaintenanceWindow", "Tags",
  ]
  glue_job_unsupported = {
    for key, job in local.glue_jobs : key => sort(setsubtract(
      keys(job),
      setsubtract(local.glue_job_fields, local.python_shell[key] ? ["WorkerType", "NumberOfWorkers"] : ["MaxCapacity"]),
    ))
  }

  # Jobs that name the environment's Glue connection load into PostgreSQL: they run as glue-database.
  job_connections = { for key, job in local.glue_jobs : key => try(job.Connections.Connections, []) }
  database_jobs   = { for key, names in local.job_connections : key => contains(names, var.glue_connection) }
  job_role_names  = { for key, db in local.database_jobs : key => db ? "${local.name}-glue-database" : "${local.name}-glue" }

  # What the glue role reads, and where it writes, in the data bucket. A crawler crawls under these.
  glue_read_prefixes  = ["raw/", "events/", "curated/"]
  glue_write_prefixes = ["curated/", "glue/tmp/"]

  glue_arn_prefix     = "arn:${local.partition}:glue:${var.region}:${local.account_id}"
  glue_connection_arn = "${local.glue_arn_prefix}:connection/${var.glue_connection}"
  vpc_arn             = "arn:${local.partition}:ec2:${var.region}:${local.account_id}:vpc/${var.vpc_id}"
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

# --- glue: jobs and crawlers on the data bucket ----------------------------------------------------

resource "aws_iam_role" "glue" {
  name               = "${local.name}-glue"
  description        = "Glue jobs and crawlers of ${local.prefix}: read their scripts and inputs, write curated data"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

# What every Glue role here needs: its scripts, and listing the data bucket.
data "aws_iam_policy_document" "glue_common" {
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
}

data "aws_iam_policy_document" "glue" {
  source_policy_documents = [data.aws_iam_policy_document.glue_common.json]

  statement {
    sid       = "ReadInputs"
    actions   = ["s3:GetObject"]
    resources = [for prefix in local.glue_read_prefixes : "${local.bucket_arn}/${prefix}*"]
  }

  statement {
    sid       = "WriteOutputs"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for prefix in local.glue_write_prefixes : "${local.bucket_arn}/${prefix}*"]
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
    # Crawlers write table definitions into the environment's catalog database, nowhere else.
    for_each = length(local.glue_crawlers) == 0 ? [] : [1]

    content {
      sid = "CrawlIntoTheCatalogDatabase"
      actions = [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetTables",
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchGetPartition",
        "glue:BatchCreatePartition",
        "glue:UpdatePartition",
        "glue:BatchUpdatePartition",
      ]
      resources = [
        "${local.glue_arn_prefix}:catalog",
        "${local.glue_arn_prefix}:database/${var.glue_database}",
        "${local.glue_arn_prefix}:table/${var.glue_database}/*",
      ]
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

# --- glue-database: jobs that load into PostgreSQL -------------------------------------------------

resource "aws_iam_role" "glue_database" {
  count = anytrue(values(local.database_jobs)) ? 1 : 0

  name               = "${local.name}-glue-database"
  description        = "Glue jobs of ${local.prefix} that load into its PostgreSQL: curated data, the database secret, the VPC"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue_database" {
  #checkov:skip=CKV_AWS_356:CreateNetworkInterface is conditioned on the database VPC; EC2's Describe calls and PutMetricData have no resource type

  source_policy_documents = [data.aws_iam_policy_document.glue_common.json]

  statement {
    sid       = "ReadCuratedData"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/curated/*"]
  }

  statement {
    sid       = "UseTemporaryFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arn}/glue/tmp/*"]
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws-glue/*"]
  }

  statement {
    sid       = "PublishJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # no resource type; the namespace condition narrows it
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }

  statement {
    sid       = "ReadTheDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.databases.analytics.password_secret_arn]
  }

  statement {
    sid       = "UseTheDatabaseConnection"
    actions   = ["glue:GetConnection"]
    resources = ["${local.glue_arn_prefix}:catalog", local.glue_connection_arn]
  }

  statement {
    # Glue places the job's network interfaces in the connection's subnet, in the database's VPC only.
    sid       = "NetworkInterfacesInTheDatabaseVpc"
    actions   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  statement {
    sid       = "TagGlueNetworkInterfaces"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:network-interface/*"]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["aws-glue-service-resource"]
    }
  }

  statement {
    # EC2's Describe calls support no resource-level permissions.
    sid = "DescribeTheNetwork"
    actions = [
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcAttribute",
      "ec2:DescribeVpcEndpoints",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    # The bucket's objects (through S3) and the database secret (through Secrets Manager).
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseTheKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.region}.amazonaws.com", "secretsmanager.${var.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "glue_database" {
  count = anytrue(values(local.database_jobs)) ? 1 : 0

  name   = "load-the-database"
  role   = aws_iam_role.glue_database[0].id
  policy = data.aws_iam_policy_document.glue_database.json
}

# --- jobs ----------------------------------------------------------------------------------------

resource "aws_glue_job" "job" {
  #checkov:skip=CKV_AWS_195:no Glue security configuration yet, so Glue's own /aws-glue log groups are not KMS-encrypted (docs/aws.md)

  for_each = local.glue_jobs

  name        = each.value.Name
  description = try(each.value.Description, null)
  # Always one of the stack's roles; a definition's Role may only name that same role (precondition).
  role_arn    = "arn:${local.partition}:iam::${local.account_id}:role/${local.job_role_names[each.key]}"
  connections = length(local.job_connections[each.key]) == 0 ? null : local.job_connections[each.key]

  command {
    name            = try(each.value.Command.Name, "glueetl")
    script_location = "s3://${var.data_bucket}/${local.script_prefix}${local.job_scripts[each.key]}"
    python_version  = try(each.value.Command.PythonVersion, "3")
    runtime         = try(each.value.Command.Runtime, null)
  }

  default_arguments = merge(
    {
      "--job-language"                     = "python"
      "--TempDir"                          = "s3://${var.data_bucket}/glue/tmp/"
      "--enable-metrics"                   = "true"
      "--enable-continuous-cloudwatch-log" = "true"
    },
    try(each.value.DefaultArguments, {}),
    # A job that loads into the warehouse reads the password from the warehouse's secret at run time.
    { for name, arn in { "--db_secret_arn" = var.databases.analytics.password_secret_arn } : name => arn if local.database_jobs[each.key] },
  )
  non_overridable_arguments = try(each.value.NonOverridableArguments, null)

  glue_version            = try(each.value.GlueVersion, local.python_shell[each.key] ? "3.0" : "5.0")
  worker_type             = local.python_shell[each.key] ? null : try(each.value.WorkerType, "G.1X")
  number_of_workers       = local.python_shell[each.key] ? null : try(each.value.NumberOfWorkers, 2)
  max_capacity            = local.python_shell[each.key] ? try(each.value.MaxCapacity, 0.0625) : null
  timeout                 = try(each.value.Timeout, 60)
  max_retries             = try(each.value.MaxRetries, 0)
  execution_class         = try(each.value.ExecutionClass, null)
  job_run_queuing_enabled = try(each.value.JobRunQueuingEnabled, null)
  maintenance_window      = try(each.value.MaintenanceWindow, null)
  tags                    = try(each.value.Tags, null)

  execution_property {
    max_concurrent_runs = try(each.value.ExecutionProperty.MaxConcurrentRuns, 1)
  }

  dynamic "notification_property" {
    for_each = can(each.value.NotificationProperty.NotifyDelayAfter) ? [each.value.NotificationProperty.NotifyDelayAfter] : []

    content {
      notify_delay_after = notification_property.value
    }
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
    precondition {
      condition = !can(each.value.Role) || contains(
        [local.job_role_names[each.key], "arn:${local.partition}:iam::${local.account_id}:role/${local.job_role_names[each.key]}"],
        try(each.value.Role, ""),
      )
      error_message = "glue/${each.key}.json: Role ${try(each.value.Role, "")} is not this job's role; leave Role out (the job runs as ${local.job_role_names[each.key]}, the stack's least-privilege role)."
    }
    precondition {
      condition     = alltrue([for name in local.job_connections[each.key] : name == var.glue_connection])
      error_message = "glue/${each.key}.json: Connections may name only the environment's connection, ${var.glue_connection} (its roles may use no other)."
    }
    precondition {
      condition     = length(local.glue_job_unsupported[each.key]) == 0
      error_message = "glue/${each.key}.json sets ${join(", ", local.glue_job_unsupported[each.key])}, which the stack does not deploy (docs/aws.md lists what it maps)."
    }
  }

  depends_on = [aws_s3_object.glue_script, aws_iam_role_policy.glue, aws_iam_role_policy.glue_database]
}
