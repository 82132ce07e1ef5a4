# The orders database: PostgreSQL on RDS (modules/postgres: master password generated and rotated by RDS
# in Secrets Manager, never in Terraform's state or outputs), with the subnet group and security group
# the analytics warehouse shares.

locals {
  db_identifier = "${local.name}-pg"
}

resource "aws_db_subnet_group" "database" {
  name        = "${local.name}-pg"
  description = "Private subnets of the ${local.prefix} database"
  subnet_ids  = var.private_subnet_ids
}

resource "aws_security_group" "database" {
  name_prefix = "${local.name}-pg-" # a prefix, so a replacement can exist before the old group goes
  description = "PostgreSQL of ${local.prefix}: 5432 from the listed networks and security groups only"
  vpc_id      = var.vpc_id
  # No egress rule: Terraform removes AWS's default allow-all egress, and RDS needs none.

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_cidr" {
  for_each = toset(var.db_allowed_cidr_blocks)

  security_group_id = aws_security_group.database.id
  description       = "PostgreSQL from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_vpc_security_group_ingress_rule" "database_sg" {
  for_each = toset(var.db_allowed_security_group_ids)

  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from members of ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

module "orders_database" {
  source = "./modules/postgres"

  identifier               = local.db_identifier
  engine_version           = var.db_engine_version
  instance_class           = var.db_instance_class
  db_name                  = var.db_name
  username                 = var.db_username
  allocated_storage_gb     = var.db_allocated_storage_gb
  max_allocated_storage_gb = var.db_max_allocated_storage_gb
  multi_az                 = var.db_multi_az
  subnet_group_name        = aws_db_subnet_group.database.name
  security_group_ids       = [aws_security_group.database.id]
  kms_key_arn              = var.kms_key_arn
  protected                = var.protected
  ephemeral                = var.ephemeral
  backup_retention_days    = var.db_backup_retention_days
  log_retention_days       = var.log_retention_days
  maintenance_window       = "sun:03:30-sun:04:30"
  performance_insights     = var.db_performance_insights
}

# Where these lived before the module: an existing environment's instance and log groups move, never
# replaced (a replaced RDS instance is a new, empty database).
moved {
  from = aws_db_instance.database
  to   = module.orders_database.aws_db_instance.this
}

moved {
  from = aws_cloudwatch_log_group.database
  to   = module.orders_database.aws_cloudwatch_log_group.this
}
