output "engine" {
  description = "Always postgres."
  value       = aws_db_instance.this.engine
}

output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the database on the instance."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "password_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master password in (never the password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
