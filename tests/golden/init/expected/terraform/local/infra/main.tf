# The local environment: provider-free, so it runs with no network and no cloud account. toolkit
# realises the database it describes with an embedded PostgreSQL server on 127.0.0.1.

terraform {
  required_version = ">= 1.11"
  backend "local" {}
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
