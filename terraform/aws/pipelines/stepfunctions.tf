# Step Functions state machines from rendered stepfunctions/*.json (Amazon States Language), logging
# to one log group, running as a role that may start and watch this environment's Glue jobs and list the
# data bucket under the prefixes its machines' S3 listing tasks name. Any other service integration needs
# its permissions added here (a check warns at plan).

locals {
  state_machine_definitions = { for key, path in local.state_machines : key => jsondecode(file(path)) }
  # Task states at the top level of each machine (states nested in Parallel or Map are not looked into).
  state_machine_tasks = flatten([
    for key, machine in local.state_machine_definitions : [
      for name, state in try(machine.States, {}) : { machine = key, state = name, definition = state }
      if try(state.Type, "") == "Task"
    ]
  ])
  s3_list_resource = "arn:aws:states:::aws-sdk:s3:listObjectsV2"
  # The integrations the role below allows.
  states_integrations = ["arn:aws:states:::glue:startJobRun", "arn:aws:states:::glue:startJobRun.sync", local.s3_list_resource]
  # S3 listing tasks of the data bucket with a literal Prefix (JSONPath Parameters or JSONata Arguments):
  # the role may list those prefixes. Any other listing task fails its machine's plan.
  states_list_tasks = {
    for task in local.state_machine_tasks : "${task.machine}: ${task.state}" => (
      try(task.definition.Parameters.Bucket, task.definition.Arguments.Bucket, "") == var.data_bucket
      ? try(task.definition.Parameters.Prefix, task.definition.Arguments.Prefix, null)
      : null
    )
    if task.definition.Resource == local.s3_list_resource
  }
  states_list_prefixes         = distinct(compact(values(local.states_list_tasks)))
  states_list_tasks_off_limits = [for task, prefix in local.states_list_tasks : task if prefix == null || prefix == ""]
  states_uncovered_tasks = [
    for task in local.state_machine_tasks : "${task.machine}: ${task.state} (${task.definition.Resource})"
    if !contains(local.states_integrations, try(task.definition.Resource, ""))
  ]
}

check "state_machine_integrations_are_allowed" {
  assert {
    condition     = length(local.states_uncovered_tasks) == 0
    error_message = "These tasks call integrations the state machine role does not allow; add their permissions in stepfunctions.tf: ${join("; ", local.states_uncovered_tasks)}."
  }
}

resource "aws_cloudwatch_log_group" "states" {
  #checkov:skip=CKV_AWS_338:retention from the var files (log_retention_days: 365 in prod, 30 elsewhere, 3 for pr-<n>)

  # /aws/vendedlogs/ keeps the log delivery's resource policy small however many machines there are.
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = local.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "states" {
  name               = "${local.name}-states"
  description        = "State machines of ${local.prefix}: run this environment's Glue jobs, list its data, write logs"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "states" {
  dynamic "statement" {
    for_each = length(aws_glue_job.job) == 0 ? [] : [1]

    content {
      sid       = "RunThisEnvironmentsGlueJobs"
      actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
      resources = [for job in aws_glue_job.job : job.arn]
    }
  }

  dynamic "statement" {
    # listObjectsV2 is s3:ListBucket, narrowed to the prefixes the machines list.
    for_each = length(local.states_list_prefixes) == 0 ? [] : [1]

    content {
      sid       = "ListTheirPrefixesOfTheDataBucket"
      actions   = ["s3:ListBucket"]
      resources = [local.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [for prefix in local.states_list_prefixes : "${prefix}*"]
      }
    }
  }

  statement {
    # CloudWatch Logs delivery for Step Functions supports no resource-level permissions.
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "states" {
  name   = "run-pipelines"
  role   = aws_iam_role.states.id
  policy = data.aws_iam_policy_document.states.json
}

resource "aws_sfn_state_machine" "pipeline" {
  #checkov:skip=CKV_AWS_285:logging at ERROR without execution data on purpose: inputs and outputs can hold customer data
  #checkov:skip=CKV_AWS_284:X-Ray tracing needs xray permissions on the role and a sampling decision; not in these stacks yet

  for_each = local.state_machines

  name       = "${local.name}-${each.key}"
  role_arn   = aws_iam_role.states.arn
  definition = file(each.value)
  type       = "STANDARD"

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.states.arn}:*"
    level                  = "ERROR"
    include_execution_data = false # execution input and output can hold customer data
  }

  lifecycle {
    precondition {
      condition     = length("${local.name}-${each.key}") <= 80
      error_message = "stepfunctions/${each.key}.json: the state machine name ${local.name}-${each.key} is longer than 80 characters."
    }
    precondition {
      condition     = length([for task in local.states_list_tasks_off_limits : task if startswith(task, "${each.key}: ")]) == 0
      error_message = "stepfunctions/${each.key}.json: an S3 listing task must name Bucket ${var.data_bucket} and a literal Prefix (the role may list only those): ${join("; ", local.states_list_tasks_off_limits)}."
    }
  }

  depends_on = [aws_iam_role_policy.states]
}
