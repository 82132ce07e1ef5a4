# Legacy: AWS Data Pipeline (closed to new customers) from rendered datapipeline/*.json, in the shape
# of PutPipelineDefinition (pipelineObjects, parameterObjects, parameterValues). Off unless
# enable_data_pipeline is set, for accounts that still run such pipelines while they move to Step Functions.

locals {
  deployed_data_pipelines = var.enable_data_pipeline ? local.data_pipelines : {}
}

check "data_pipeline_definitions_are_deployed" {
  assert {
    condition     = var.enable_data_pipeline || length(local.data_pipelines) == 0
    error_message = "datapipeline/*.json definitions were rendered (${join(", ", keys(local.data_pipelines))}) but enable_data_pipeline is false: they are not deployed."
  }
}

resource "aws_datapipeline_pipeline" "legacy" {
  for_each = local.deployed_data_pipelines

  name        = "${local.name}-${each.key}"
  description = try(each.value.description, "Legacy pipeline ${each.key} of ${local.prefix}")
}

resource "aws_datapipeline_pipeline_definition" "legacy" {
  for_each = local.deployed_data_pipelines

  pipeline_id = aws_datapipeline_pipeline.legacy[each.key].id

  dynamic "pipeline_object" {
    for_each = each.value.pipelineObjects

    content {
      id   = pipeline_object.value.id
      name = pipeline_object.value.name

      dynamic "field" {
        for_each = try(pipeline_object.value.fields, [])

        content {
          key          = field.value.key
          string_value = try(field.value.stringValue, null)
          ref_value    = try(field.value.refValue, null)
        }
      }
    }
  }

  dynamic "parameter_object" {
    for_each = try(each.value.parameterObjects, [])

    content {
      id = parameter_object.value.id

      dynamic "attribute" {
        for_each = try(parameter_object.value.attributes, [])

        content {
          key          = attribute.value.key
          string_value = attribute.value.stringValue
        }
      }
    }
  }

  dynamic "parameter_value" {
    for_each = try(each.value.parameterValues, [])

    content {
      id           = parameter_value.value.id
      string_value = parameter_value.value.stringValue
    }
  }
}
