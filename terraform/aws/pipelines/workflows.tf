# Glue workflows from rendered glue-workflows/*.json ({"Workflow": CreateWorkflow, "Crawlers":
# [CreateCrawler], "Triggers": [CreateTrigger]}): the workflow, its crawlers and its triggers, so what is
# rendered is what is deployed. Crawlers run as the stack's glue role into the environment's catalog
# database; triggers start this stack's jobs and this file's crawlers only.

locals {
  glue_workflows = { for f in fileset("${local.rendered}/glue-workflows", "*.json") : trimsuffix(f, ".json") => jsondecode(file("${local.rendered}/glue-workflows/${f}")) }

  # Crawlers and triggers by name (unique in the account anyway; a duplicate fails the plan), each with
  # the file it came from.
  glue_crawlers = {
    for item in flatten([for key, flow in local.glue_workflows : [for crawler in try(flow.Crawlers, []) : { file = key, definition = crawler }]]) :
    item.definition.Name => item
  }
  glue_triggers = {
    for item in flatten([for key, flow in local.glue_workflows : [for trigger in try(flow.Triggers, []) : { file = key, definition = trigger }]]) :
    item.definition.Name => item
  }

  # The fields mapped below (docs/aws.md). Not deployed, so a plan with them fails: a crawler's CatalogId,
  # CrawlerSecurityConfiguration, LineageConfiguration, LakeFormationConfiguration and targets other than
  # S3 (or an S3 target's ConnectionName and event queues); an action's SecurityConfiguration.
  glue_workflow_file_fields = ["Workflow", "Crawlers", "Triggers"]
  glue_crawler_fields = [
    "Name", "Role", "DatabaseName", "Description", "Targets", "Schedule", "Classifiers", "TablePrefix",
    "SchemaChangePolicy", "RecrawlPolicy", "Configuration", "Tags",
  ]
  glue_crawler_unsupported = {
    for name, item in local.glue_crawlers : name => sort(concat(
      tolist(setsubtract(keys(item.definition), local.glue_crawler_fields)),
      [for target in keys(try(item.definition.Targets, {})) : "Targets.${target}" if target != "S3Targets"],
      distinct(flatten([
        for target in try(item.definition.Targets.S3Targets, []) :
        [for field in keys(target) : "S3Targets[].${field}" if !contains(["Path", "Exclusions", "SampleSize"], field)]
      ])),
    ))
  }
  glue_trigger_unsupported = {
    for name, item in local.glue_triggers : name => distinct([
      for action in item.definition.Actions : "Actions[].SecurityConfiguration" if can(action.SecurityConfiguration)
    ])
  }
  # What a trigger starts or watches; it must be this stack's.
  glue_trigger_jobs = {
    for name, item in local.glue_triggers : name => distinct(concat(
      [for action in item.definition.Actions : action.JobName if can(action.JobName)],
      [for condition in try(item.definition.Predicate.Conditions, []) : condition.JobName if can(condition.JobName)],
    ))
  }
  glue_trigger_crawlers = {
    for name, item in local.glue_triggers : name => distinct(concat(
      [for action in item.definition.Actions : action.CrawlerName if can(action.CrawlerName)],
      [for condition in try(item.definition.Predicate.Conditions, []) : condition.CrawlerName if can(condition.CrawlerName)],
    ))
  }
  glue_job_deployed_names = [for job in local.glue_jobs : job.Name]
  glue_role_arn           = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-glue"
}

resource "aws_glue_workflow" "pipeline" {
  for_each = local.glue_workflows

  name                   = each.value.Workflow.Name
  description            = try(each.value.Workflow.Description, null)
  default_run_properties = try(each.value.Workflow.DefaultRunProperties, null)
  max_concurrent_runs    = try(each.value.Workflow.MaxConcurrentRuns, null)
  tags                   = try(each.value.Workflow.Tags, null)

  lifecycle {
    precondition {
      condition     = startswith(each.value.Workflow.Name, "${local.prefix}-")
      error_message = "glue-workflows/${each.key}.json: the workflow name ${each.value.Workflow.Name} must start with ${local.prefix}-."
    }
    precondition {
      condition     = length(setsubtract(keys(each.value), local.glue_workflow_file_fields)) == 0
      error_message = "glue-workflows/${each.key}.json: only Workflow, Crawlers and Triggers are deployed."
    }
  }
}

resource "aws_glue_crawler" "pipeline" {
  #checkov:skip=CKV_AWS_195:no Glue security configuration yet, so Glue's own /aws-glue log groups are not KMS-encrypted (docs/aws.md)

  for_each = local.glue_crawlers

  name          = each.key
  description   = try(each.value.definition.Description, null)
  role          = aws_iam_role.glue.arn
  database_name = each.value.definition.DatabaseName
  schedule      = try(each.value.definition.Schedule, null)
  table_prefix  = try(each.value.definition.TablePrefix, null)
  classifiers   = try(each.value.definition.Classifiers, null)
  configuration = try(each.value.definition.Configuration, null)
  tags          = try(each.value.definition.Tags, null)

  dynamic "s3_target" {
    for_each = try(each.value.definition.Targets.S3Targets, [])

    content {
      path        = s3_target.value.Path
      exclusions  = try(s3_target.value.Exclusions, null)
      sample_size = try(s3_target.value.SampleSize, null)
    }
  }

  dynamic "schema_change_policy" {
    for_each = can(each.value.definition.SchemaChangePolicy) ? [each.value.definition.SchemaChangePolicy] : []

    content {
      update_behavior = try(schema_change_policy.value.UpdateBehavior, null)
      delete_behavior = try(schema_change_policy.value.DeleteBehavior, null)
    }
  }

  dynamic "recrawl_policy" {
    for_each = can(each.value.definition.RecrawlPolicy.RecrawlBehavior) ? [each.value.definition.RecrawlPolicy.RecrawlBehavior] : []

    content {
      recrawl_behavior = recrawl_policy.value
    }
  }

  lifecycle {
    precondition {
      condition     = startswith(each.key, "${local.prefix}-")
      error_message = "glue-workflows/${each.value.file}.json: the crawler name ${each.key} must start with ${local.prefix}-."
    }
    precondition {
      condition     = contains(["${local.name}-glue", local.glue_role_arn], each.value.definition.Role)
      error_message = "glue-workflows/${each.value.file}.json: crawler ${each.key} must run as the stack's role ${local.name}-glue, not ${each.value.definition.Role}."
    }
    precondition {
      condition     = try(each.value.definition.DatabaseName, "") == var.glue_database
      error_message = "glue-workflows/${each.value.file}.json: crawler ${each.key} must write to the environment's catalog database ${var.glue_database} (@@{glue_database})."
    }
    precondition {
      # The role reads these prefixes of the data bucket and nothing else.
      condition = length(try(each.value.definition.Targets.S3Targets, [])) > 0 && alltrue([
        for target in try(each.value.definition.Targets.S3Targets, []) :
        anytrue([for prefix in local.glue_read_prefixes : startswith(target.Path, "s3://${var.data_bucket}/${prefix}")])
      ])
      error_message = "glue-workflows/${each.value.file}.json: crawler ${each.key} must crawl S3 paths under s3://${var.data_bucket}/{${join(",", local.glue_read_prefixes)}}."
    }
    precondition {
      condition     = length(local.glue_crawler_unsupported[each.key]) == 0
      error_message = "glue-workflows/${each.value.file}.json: crawler ${each.key} sets ${join(", ", local.glue_crawler_unsupported[each.key])}, which the stack does not deploy (docs/aws.md lists what it maps)."
    }
  }

  depends_on = [aws_iam_role_policy.glue]
}

resource "aws_glue_trigger" "pipeline" {
  for_each = local.glue_triggers

  name              = each.key
  description       = try(each.value.definition.Description, null)
  type              = each.value.definition.Type
  workflow_name     = aws_glue_workflow.pipeline[each.value.file].name
  schedule          = try(each.value.definition.Schedule, null)
  start_on_creation = try(each.value.definition.StartOnCreation, null)
  tags              = try(each.value.definition.Tags, null)

  dynamic "actions" {
    for_each = each.value.definition.Actions

    content {
      job_name     = try(actions.value.JobName, null)
      crawler_name = try(actions.value.CrawlerName, null)
      arguments    = try(actions.value.Arguments, null)
      timeout      = try(actions.value.Timeout, null)

      dynamic "notification_property" {
        for_each = can(actions.value.NotificationProperty.NotifyDelayAfter) ? [actions.value.NotificationProperty.NotifyDelayAfter] : []

        content {
          notify_delay_after = notification_property.value
        }
      }
    }
  }

  dynamic "predicate" {
    for_each = can(each.value.definition.Predicate) ? [each.value.definition.Predicate] : []

    content {
      logical = try(predicate.value.Logical, null)

      dynamic "conditions" {
        for_each = try(predicate.value.Conditions, [])

        content {
          job_name         = try(conditions.value.JobName, null)
          state            = try(conditions.value.State, null)
          crawler_name     = try(conditions.value.CrawlerName, null)
          crawl_state      = try(conditions.value.CrawlState, null)
          logical_operator = try(conditions.value.LogicalOperator, null)
        }
      }
    }
  }

  dynamic "event_batching_condition" {
    for_each = can(each.value.definition.EventBatchingCondition) ? [each.value.definition.EventBatchingCondition] : []

    content {
      batch_size   = event_batching_condition.value.BatchSize
      batch_window = try(event_batching_condition.value.BatchWindow, null)
    }
  }

  lifecycle {
    precondition {
      condition     = startswith(each.key, "${local.prefix}-")
      error_message = "glue-workflows/${each.value.file}.json: the trigger name ${each.key} must start with ${local.prefix}-."
    }
    precondition {
      condition     = try(each.value.definition.WorkflowName, local.glue_workflows[each.value.file].Workflow.Name) == local.glue_workflows[each.value.file].Workflow.Name
      error_message = "glue-workflows/${each.value.file}.json: trigger ${each.key} belongs to the workflow of its file, ${local.glue_workflows[each.value.file].Workflow.Name}."
    }
    precondition {
      condition     = alltrue([for job in local.glue_trigger_jobs[each.key] : contains(local.glue_job_deployed_names, job)])
      error_message = "glue-workflows/${each.value.file}.json: trigger ${each.key} names jobs this stack does not deploy: ${join(", ", setsubtract(local.glue_trigger_jobs[each.key], local.glue_job_deployed_names))}."
    }
    precondition {
      condition     = alltrue([for crawler in local.glue_trigger_crawlers[each.key] : contains(keys(local.glue_crawlers), crawler)])
      error_message = "glue-workflows/${each.value.file}.json: trigger ${each.key} names crawlers this stack does not deploy: ${join(", ", setsubtract(local.glue_trigger_crawlers[each.key], keys(local.glue_crawlers)))}."
    }
    precondition {
      condition     = length(local.glue_trigger_unsupported[each.key]) == 0
      error_message = "glue-workflows/${each.value.file}.json: trigger ${each.key} sets ${join(", ", local.glue_trigger_unsupported[each.key])}, which the stack does not deploy."
    }
  }

  # A trigger that starts on creation needs its jobs and crawlers to exist.
  depends_on = [aws_glue_job.job, aws_glue_crawler.pipeline]
}
