# The local environment's pipelines: provider-free, so it records what would be deployed rather than
# deploying it. Each rendered definition becomes one terraform_data whose input is the file's SHA-256,
# so a changed definition shows up in the plan exactly as it would on AWS.

terraform {
  required_version = ">= 1.11"
  backend "local" {}
}

locals {
  # Empty until toolkit injects the folders (and the folders may not exist yet): then nothing is recorded.
  rendered_files = var.rendered_pipelines_dir == "" ? toset([]) : fileset(var.rendered_pipelines_dir, "**/*.json")
  glue_scripts   = var.glue_scripts_dir == "" ? toset([]) : fileset(var.glue_scripts_dir, "*.py")

  # "stepfunctions/daily_orders.json" -> "stepfunctions/daily_orders"
  pipelines = {
    for path in local.rendered_files :
    trimsuffix(path, ".json") => filesha256("${var.rendered_pipelines_dir}/${path}")
  }
}

resource "terraform_data" "pipeline" {
  for_each = local.pipelines

  input = {
    environment = var.environment
    sha256      = each.value
  }
}

resource "terraform_data" "glue_script" {
  for_each = local.glue_scripts

  input = filesha256("${var.glue_scripts_dir}/${each.value}")
}
