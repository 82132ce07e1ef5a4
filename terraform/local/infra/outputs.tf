# The output contract shared with terraform/aws: same names, same attributes.

output "databases" {
  description = "Each database toolkit migrates (toolkit.toml's [databases.<name>]): where it is, where its password lives."
  value = {
    orders = {
      engine              = terraform_data.database.output.engine
      host                = terraform_data.database.output.host
      port                = terraform_data.database.output.port
      name                = terraform_data.database.output.name
      username            = terraform_data.database.output.username
      password_secret_arn = null
      password_file       = var.db_password_file
    }
    analytics = {
      engine              = terraform_data.warehouse.output.engine
      host                = terraform_data.warehouse.output.host
      port                = terraform_data.warehouse.output.port
      name                = terraform_data.warehouse.output.name
      username            = terraform_data.warehouse.output.username
      password_secret_arn = null
      password_file       = var.warehouse_db_password_file
    }
  }
}

output "database" {
  description = "The orders database (the one-database shorthand of `databases`, for what reads only one)."
  value = {
    engine              = terraform_data.database.output.engine
    host                = terraform_data.database.output.host
    port                = terraform_data.database.output.port
    name                = terraform_data.database.output.name
    username            = terraform_data.database.output.username
    password_secret_arn = null
    password_file       = var.db_password_file
  }
}

output "data_bucket" {
  description = "Bucket (name) where pipelines land their data."
  value       = terraform_data.data_bucket.output
}

output "event_stream" {
  description = "Stream (name) that carries incoming events."
  value       = terraform_data.event_stream.output
}

output "glue_database" {
  description = "Data Catalog database (name) the pipelines' crawlers write their tables to."
  value       = local.glue_database
}

output "glue_connection" {
  description = "Glue connection (name) that puts a job in the database's VPC, allowed to reach PostgreSQL."
  value       = local.glue_connection
}
