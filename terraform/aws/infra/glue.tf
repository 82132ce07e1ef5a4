# What the pipelines' Glue jobs and crawlers need from the infrastructure: the environment's Data Catalog
# database, and a Glue connection into the database's VPC (a security group that may reach PostgreSQL,
# one private subnet). The pipelines stack gets both names as the outputs glue_database and
# glue_connection.

resource "aws_glue_catalog_database" "pipelines" {
  # Catalog names are lower-case letters, digits and underscores (Athena, Spark SQL): orders_dev, orders_pr_12.
  name        = replace(local.name, "-", "_")
  description = "Tables the crawlers of ${local.prefix} find in its data bucket"
}

data "aws_vpc" "database" {
  id = var.vpc_id
}

data "aws_subnet" "glue" {
  # Glue places a connection's network interfaces in one subnet (and its availability zone).
  id = var.private_subnet_ids[0]
}

data "aws_ec2_managed_prefix_list" "s3" {
  name = "com.amazonaws.${var.region}.s3"
}

locals {
  # Private subnets reach AWS APIs (Secrets Manager, Glue, CloudWatch Logs, STS) through interface
  # endpoints inside the VPC by default; a VPC that uses a NAT gateway sets 0.0.0.0/0 instead.
  glue_https_egress_cidr_blocks = var.glue_https_egress_cidr_blocks != null ? var.glue_https_egress_cidr_blocks : [data.aws_vpc.database.cidr_block]
}

resource "aws_security_group" "glue" {
  #checkov:skip=CKV2_AWS_5:attached to the Glue connection (physical_connection_requirements), which checkov does not follow

  name_prefix = "${local.name}-glue-"
  description = "Glue jobs of ${local.prefix} in the database VPC: PostgreSQL, AWS APIs over HTTPS, each other"
  vpc_id      = var.vpc_id
  # No inline rules: Terraform removes AWS's default allow-all egress; the rules below are all there is.

  lifecycle {
    create_before_destroy = true
  }
}

# Glue requires a self-referencing rule for all TCP ports: a job's workers talk to each other.
resource "aws_vpc_security_group_ingress_rule" "glue_self" {
  #checkov:skip=CKV_AWS_24:the source is this security group itself (Glue requires it), not 0.0.0.0/0
  #checkov:skip=CKV_AWS_25:the source is this security group itself (Glue requires it), not 0.0.0.0/0
  #checkov:skip=CKV_AWS_260:the source is this security group itself (Glue requires it), not 0.0.0.0/0

  security_group_id            = aws_security_group.glue.id
  description                  = "Glue workers of the same job"
  referenced_security_group_id = aws_security_group.glue.id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
}

resource "aws_vpc_security_group_egress_rule" "glue_self" {
  security_group_id            = aws_security_group.glue.id
  description                  = "Glue workers of the same job"
  referenced_security_group_id = aws_security_group.glue.id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
}

resource "aws_vpc_security_group_egress_rule" "glue_database" {
  security_group_id            = aws_security_group.glue.id
  description                  = "PostgreSQL of ${local.prefix}"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "glue_s3" {
  security_group_id = aws_security_group.glue.id
  description       = "S3 through the VPC's gateway endpoint (scripts, temporary files, data)"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.s3.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "glue_https" {
  for_each = toset(local.glue_https_egress_cidr_blocks)

  security_group_id = aws_security_group.glue.id
  description       = "AWS APIs over HTTPS (Secrets Manager, Glue, CloudWatch Logs, STS)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# The other half of glue_database: PostgreSQL accepts the Glue jobs' security group.
resource "aws_vpc_security_group_ingress_rule" "database_glue" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the Glue jobs of ${local.prefix}"
  referenced_security_group_id = aws_security_group.glue.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_glue_connection" "database" {
  # NETWORK: only the VPC placement. Jobs log in with the master secret (Secrets Manager), so the
  # connection holds no credentials and no JDBC URL.
  name            = "${local.name}-database"
  description     = "Network path from the Glue jobs of ${local.prefix} to its PostgreSQL"
  connection_type = "NETWORK"

  physical_connection_requirements {
    availability_zone      = data.aws_subnet.glue.availability_zone
    subnet_id              = data.aws_subnet.glue.id
    security_group_id_list = [aws_security_group.glue.id]
  }
}
