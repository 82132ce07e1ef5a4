# The output contract every environment's first stack publishes (README, "Output contract").

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
