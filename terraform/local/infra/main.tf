# The local environment: provider-free, so it runs with no network and no cloud account.
# It records what the local environment consists of and publishes the same output contract as
# terraform/aws; toolkit realises the databases it describes (orders, and the analytics warehouse) as two
# databases of one embedded PostgreSQL server, each with its own login role and password file.

terraform {
  required_version = ">= 1.11"
  backend "local" {}
}

locals {
  prefix = "${var.project}-${var.environment}"
  # Names only, as terraform/aws/infra/glue.tf gives them: pipeline definitions refer to them, and
  # nothing local stands behind them.
  glue_database   = replace(local.prefix, "-", "_")
  glue_connection = "${local.prefix}-database"
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

resource "terraform_data" "warehouse" {
  input = {
    engine   = "postgres"
    host     = "127.0.0.1"
    port     = var.db_port # the same local server as the orders database
    name     = var.warehouse_db_name
    username = var.warehouse_db_username
  }
}

resource "terraform_data" "data_bucket" {
  input = "${local.prefix}-data"
}

resource "terraform_data" "event_stream" {
  input = "${local.prefix}-events"
}
