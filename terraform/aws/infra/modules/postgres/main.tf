# One PostgreSQL instance on RDS as toolkit's stacks run every database: the master password generated
# and rotated by RDS in Secrets Manager (it never passes through Terraform's state or outputs: the
# outputs carry only the secret's ARN), encrypted with the environment's key, private, IAM
# authentication on, its exported logs in log groups with a retention, deletion protection and a final
# snapshot in protected environments. The orders database and the analytics warehouse are both this
# module, so what keeps data safe cannot drift apart between them.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0" # the stack that calls this module pins the major version
    }
  }
}

locals {
  log_exports = ["postgresql", "upgrade"]
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:retention from the var files (log_retention_days: 365 in prod, 30 elsewhere, 3 for pr-<n>)

  for_each = toset(local.log_exports)

  name              = "/aws/rds/instance/${var.identifier}/${each.value}"
  retention_in_days = var.ephemeral ? 3 : var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_293:deletion_protection = var.protected: on in protected environments; dev, qa and pr-<n> must go with env down
  #checkov:skip=CKV_AWS_157:multi_az from the var files (db_multi_az, warehouse_multi_az: on in prod)
  #checkov:skip=CKV_AWS_353:Performance Insights from the var files (db_performance_insights: on in qa and prod)
  #checkov:skip=CKV_AWS_118:enhanced monitoring needs a monitoring IAM role; not in these stacks yet (docs/aws.md)
  #checkov:skip=CKV2_AWS_30:statement logging would copy migration SQL, and the values it carries, into CloudWatch

  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version # a major version: RDS picks its latest minor
  instance_class = var.instance_class

  db_name                       = var.db_name
  username                      = var.username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn
  # Migrations and applications may log in with IAM tokens instead of the master password.
  iam_database_authentication_enabled = true

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = var.subnet_group_name
  vpc_security_group_ids = var.security_group_ids
  publicly_accessible    = false
  multi_az               = var.multi_az

  # Protected environments keep their data: no deletion, a final snapshot, at least a week of
  # backups. Everything else (ephemeral pr-<n> above all) is destroyed without leaving snapshots.
  deletion_protection       = var.protected
  skip_final_snapshot       = !var.protected
  final_snapshot_identifier = var.protected ? "${var.identifier}-final" : null
  backup_retention_period   = var.ephemeral ? 0 : var.backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = var.maintenance_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = !var.protected

  auto_minor_version_upgrade      = true
  apply_immediately               = !var.protected # protected: changes wait for the maintenance window
  enabled_cloudwatch_logs_exports = local.log_exports

  performance_insights_enabled          = var.performance_insights
  performance_insights_retention_period = var.performance_insights ? 7 : null
  performance_insights_kms_key_id       = var.performance_insights ? var.kms_key_arn : null

  # RDS would create the log groups itself, kept forever; ours come first, with a retention.
  depends_on = [aws_cloudwatch_log_group.this]

  lifecycle {
    precondition {
      condition     = !var.protected || var.backup_retention_days >= 7
      error_message = "A protected environment keeps at least 7 days of backups (db_backup_retention_days)."
    }
  }
}
