# The output contract shared with terraform/local/infra: same names, same attributes.

output "database" {
  description = "Where the environment's PostgreSQL is and where its password lives (never the password)."
  value = {
    engine              = aws_db_instance.database.engine
    host                = aws_db_instance.database.address
    port                = aws_db_instance.database.port
    name                = aws_db_instance.database.db_name
    username            = aws_db_instance.database.username
    password_secret_arn = aws_db_instance.database.master_user_secret[0].secret_arn
    password_file       = null
  }
}

output "data_bucket" {
  description = "Bucket (name) where pipelines land their data."
  value       = aws_s3_bucket.data.bucket
}

output "event_stream" {
  description = "Stream (name) that carries incoming events."
  value       = aws_kinesis_stream.events.name
}

output "glue_database" {
  description = "Data Catalog database (name) the pipelines' crawlers write their tables to."
  value       = aws_glue_catalog_database.pipelines.name
}

output "glue_connection" {
  description = "Glue connection (name) that puts a job in the database's VPC, allowed to reach PostgreSQL."
  value       = aws_glue_connection.database.name
}
