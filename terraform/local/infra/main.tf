# The local environment: provider-free, so it runs with no network and no cloud account.
# It records what the local environment consists of and publishes the same output contract as
# terraform/aws; toolkit realises the database it describes with an embedded PostgreSQL server.

terraform {
  required_version = ">= 1.11"
  backend "local" {}
}

locals {
  prefix = "${var.project}-${var.environment}"
}

resource "terraform_data" "database" {
  input = {
    engine   = "postgres"
    host     = "127.0.0.1"
    port     = var.db_port
    name     = var.db_name
    username = var.db_username
  }
}

resource "terraform_data" "data_bucket" {
  input = "${local.prefix}-data"
}

resource "terraform_data" "event_stream" {
  input = "${local.prefix}-events"
}

# Names only, as on AWS (terraform/aws/infra/glue.tf): pipeline definitions refer to them.
resource "terraform_data" "glue_database" {
  input = replace(local.prefix, "-", "_")
}

resource "terraform_data" "glue_connection" {
  input = "${local.prefix}-database"
}
