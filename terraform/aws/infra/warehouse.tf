# The analytics warehouse: a second PostgreSQL on RDS that the nightly ETL loads into (orders → S3 → Glue →
# analytics). Run as the orders database is: its master password generated and rotated by RDS in Secrets
# Manager (the outputs carry only the secret's ARN), encrypted, private, in the same subnets and behind
# the same security group (so the same networks and the Glue jobs reach it on 5432), deletion-protected
# with a final snapshot in protected environments. Its own parameters: a warehouse grows larger and can
# wait longer for a standby, so it has its own instance class, storage and Multi-AZ switch.

locals {
  warehouse_identifier = "${local.name}-dw"
}

resource "aws_cloudwatch_log_group" "warehouse" {
  for_each = toset(local.db_log_exports)

  name              = "/aws/rds/instance/${local.warehouse_identifier}/${each.value}"
  retention_in_days = var.ephemeral ? 3 : var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_db_instance" "warehouse" {
  identifier     = local.warehouse_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.warehouse_instance_class != null ? var.warehouse_instance_class : var.db_instance_class

  db_name                             = var.warehouse_db_name
  username                            = var.warehouse_db_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = var.kms_key_arn
  iam_database_authentication_enabled = true

  allocated_storage     = var.warehouse_allocated_storage_gb
  max_allocated_storage = var.warehouse_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.database.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  multi_az               = var.warehouse_multi_az

  deletion_protection       = var.protected
  skip_final_snapshot       = !var.protected
  final_snapshot_identifier = var.protected ? "${local.warehouse_identifier}-final" : null
  backup_retention_period   = var.ephemeral ? 0 : var.db_backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:04:30-sun:05:30" # after the orders database's, never both at once
  copy_tags_to_snapshot     = true
  delete_automated_backups  = !var.protected

  auto_minor_version_upgrade      = true
  apply_immediately               = !var.protected
  enabled_cloudwatch_logs_exports = local.db_log_exports

  performance_insights_enabled          = var.db_performance_insights
  performance_insights_retention_period = var.db_performance_insights ? 7 : null
  performance_insights_kms_key_id       = var.db_performance_insights ? var.kms_key_arn : null

  depends_on = [aws_cloudwatch_log_group.warehouse]

  lifecycle {
    precondition {
      condition     = !var.protected || var.db_backup_retention_days >= 7
      error_message = "A protected environment keeps at least 7 days of backups (db_backup_retention_days)."
    }
  }
}
