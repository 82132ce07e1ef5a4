# The analytics warehouse: a second PostgreSQL on RDS that the nightly ETL loads into (orders → S3 → Glue →
# analytics). Run as the orders database is (the same module, modules/postgres), in the same subnets and
# behind the same security group (so the same networks and the Glue jobs reach it on 5432), deletion-protected
# with a final snapshot in protected environments. Its own parameters: a warehouse grows larger and can
# wait longer for a standby, so it has its own instance class, storage and Multi-AZ switch.

locals {
  warehouse_identifier = "${local.name}-dw"
}

module "warehouse" {
  source = "./modules/postgres"

  identifier               = local.warehouse_identifier
  engine_version           = var.db_engine_version
  instance_class           = var.warehouse_instance_class != null ? var.warehouse_instance_class : var.db_instance_class
  db_name                  = var.warehouse_db_name
  username                 = var.warehouse_db_username
  allocated_storage_gb     = var.warehouse_allocated_storage_gb
  max_allocated_storage_gb = var.warehouse_max_allocated_storage_gb
  multi_az                 = var.warehouse_multi_az
  subnet_group_name        = aws_db_subnet_group.database.name
  security_group_ids       = [aws_security_group.database.id]
  kms_key_arn              = var.kms_key_arn
  protected                = var.protected
  ephemeral                = var.ephemeral
  backup_retention_days    = var.db_backup_retention_days
  log_retention_days       = var.log_retention_days
  maintenance_window       = "sun:04:30-sun:05:30" # after the orders database's, never both at once
  performance_insights     = var.db_performance_insights
}

moved {
  from = aws_db_instance.warehouse
  to   = module.warehouse.aws_db_instance.this
}

moved {
  from = aws_cloudwatch_log_group.warehouse
  to   = module.warehouse.aws_cloudwatch_log_group.this
}
