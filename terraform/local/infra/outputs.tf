# The output contract shared with terraform/aws: same names, same attributes.

output "database" {
  description = "Where the environment's PostgreSQL is and where its password lives (never the password)."
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
