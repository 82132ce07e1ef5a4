# Step Functions state machines from rendered stepfunctions/*.json (Amazon States Language), logging
# to one log group, running as a role that may start and watch this environment's Glue jobs only.

resource "aws_cloudwatch_log_group" "states" {
  # /aws/vendedlogs/ keeps the log delivery's resource policy small however many machines there are.
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = local.log_retention_days
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
  description        = "State machines of ${local.prefix}: run this environment's Glue jobs, write logs"
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
  }

  depends_on = [aws_iam_role_policy.states]
}
