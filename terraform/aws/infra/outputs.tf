# The output contract shared with terraform/local/infra: same names, same attributes.

output "databases" {
  description = "Each database toolkit migrates (toolkit.toml's [databases.<name>]): where it is, where its password lives."
  value = {
    orders = {
      engine              = module.orders_database.engine
      host                = module.orders_database.address
      port                = module.orders_database.port
      name                = module.orders_database.db_name
      username            = module.orders_database.username
      password_secret_arn = module.orders_database.password_secret_arn
      password_file       = null
    }
    analytics = {
      engine              = module.warehouse.engine
      host                = module.warehouse.address
      port                = module.warehouse.port
      name                = module.warehouse.db_name
      username            = module.warehouse.username
      password_secret_arn = module.warehouse.password_secret_arn
      password_file       = null
    }
  }
}

output "database" {
  description = "The orders database (the one-database shorthand of `databases`, for what reads only one)."
  value = {
    engine              = module.orders_database.engine
    host                = module.orders_database.address
    port                = module.orders_database.port
    name                = module.orders_database.db_name
    username            = module.orders_database.username
    password_secret_arn = module.orders_database.password_secret_arn
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
