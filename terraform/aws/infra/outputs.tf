# The output contract shared with terraform/local/infra: same names, same attributes.

output "databases" {
  description = "Each database toolkit migrates (toolkit.toml's [databases.<name>]): where it is, where its password lives."
  value = {
    orders = {
      engine              = aws_db_instance.database.engine
      host                = aws_db_instance.database.address
      port                = aws_db_instance.database.port
      name                = aws_db_instance.database.db_name
      username            = aws_db_instance.database.username
      password_secret_arn = aws_db_instance.database.master_user_secret[0].secret_arn
      password_file       = null
    }
    analytics = {
      engine              = aws_db_instance.warehouse.engine
      host                = aws_db_instance.warehouse.address
      port                = aws_db_instance.warehouse.port
      name                = aws_db_instance.warehouse.db_name
      username            = aws_db_instance.warehouse.username
      password_secret_arn = aws_db_instance.warehouse.master_user_secret[0].secret_arn
      password_file       = null
    }
  }
}

output "database" {
  description = "The orders database (the one-database shorthand of `databases`, for what reads only one)."
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
