# Shared by both AWS stacks (tfvars/common.tfvars.json and the environment's own file).

variable "environment" {
  description = "Environment name; injected by toolkit, never set in a var file."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment)) && length(var.environment) <= 40
    error_message = "environment: lower-case letters, digits and single inner hyphens, at most 40 characters (e.g. dev, pr-123)."
  }
}

variable "project" {
  description = "Short project name, the first part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) <= 20
    error_message = "project: lower-case letters, digits and single inner hyphens, at most 20 characters."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "allowed_account_ids" {
  description = "The only AWS account(s) this environment may be applied to (guards against the wrong credentials)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids: at least one 12-digit AWS account id."
  }
}

variable "owner" {
  description = "Team or person answerable for the environment (the owner tag)."
  type        = string
}

variable "protected" {
  description = "Long-lived environment whose data must survive: deletion protection, final snapshot, backups."
  type        = bool
  default     = false
}

variable "ephemeral" {
  description = "Short-lived environment (pr-<n>): everything may be destroyed with its data, objects expire."
  type        = bool
  default     = false

  validation {
    condition     = !(var.ephemeral && var.protected)
    error_message = "an environment cannot be both ephemeral and protected."
  }
}

variable "ttl" {
  description = "How long an ephemeral environment may live (e.g. 72h); becomes the ttl tag that the reaper reads."
  type        = string
  default     = null

  validation {
    condition     = var.ttl == null || can(regex("^[0-9]+[hd]$", var.ttl))
    error_message = "ttl: a number of hours or days, e.g. 72h or 7d."
  }

  validation {
    # The reaper finds short-lived environments by these tags: one without them would live forever.
    condition     = !var.ephemeral || var.ttl != null || var.expires_at != null
    error_message = "an ephemeral environment needs ttl or expires_at."
  }
}

variable "expires_at" {
  description = "RFC 3339 time after which an ephemeral environment may be reaped (expires-at tag); fixed at creation."
  type        = string
  default     = null

  validation {
    condition     = var.expires_at == null || can(formatdate("YYYY", var.expires_at))
    error_message = "expires_at must be an RFC 3339 timestamp, e.g. 2026-01-31T18:00:00Z."
  }
}

# --- network -------------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC that holds the database (existing; the network is owned by the network team)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets, in at least two availability zones, for the database subnet group."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids: RDS needs subnets in at least two availability zones."
  }
}

variable "db_allowed_cidr_blocks" {
  description = "CIDR blocks that may reach PostgreSQL on 5432 (e.g. the CI runners' subnets)."
  type        = list(string)
  default     = []
}

variable "db_allowed_security_group_ids" {
  description = "Security groups whose members may reach PostgreSQL on 5432 (e.g. the application's)."
  type        = list(string)
  default     = []
}

variable "glue_https_egress_cidr_blocks" {
  description = "Where the Glue jobs in the VPC may reach AWS APIs on 443; null: the VPC's CIDR (interface endpoints). With a NAT gateway: [\"0.0.0.0/0\"]."
  type        = list(string)
  default     = null
}

# --- database ------------------------------------------------------------------------------------

variable "db_name" {
  description = "Database the migrations run in."
  type        = string
}

variable "db_username" {
  description = "Master user; its password is generated and rotated by RDS in Secrets Manager."
  type        = string
}

variable "db_engine_version" {
  description = "PostgreSQL major version; RDS applies the latest minor version of it."
  type        = string
  default     = "17"

  validation {
    condition     = contains(["16", "17"], var.db_engine_version)
    error_message = "db_engine_version: 16 or 17."
  }
}

variable "db_instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro for short-lived environments, db.r7g.large for prod."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB (0 disables autoscaling)."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Standby in a second availability zone."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Automated backup retention; protected environments need at least 7."
  type        = number
  default     = 1

  validation {
    condition     = var.db_backup_retention_days >= 0 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days: 0 to 35."
  }
}

variable "db_performance_insights" {
  description = "Enable Performance Insights (7 days retention is free)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the database, its secret and the bucket; null uses the AWS-managed keys."
  type        = string
  default     = null
}

# --- events --------------------------------------------------------------------------------------

variable "event_stream_shards" {
  description = "Kinesis shards; 0 uses on-demand capacity mode (no shard planning)."
  type        = number
  default     = 0
}

variable "event_stream_retention_hours" {
  description = "How long the stream keeps records (24 to 8760 hours)."
  type        = number
  default     = 24
}

variable "firehose_buffer_mb" {
  description = "Firehose flushes to S3 when this much data is buffered (1 to 128 MiB)."
  type        = number
  default     = 64
}

variable "firehose_buffer_seconds" {
  description = "... or when this much time has passed (0 to 900 seconds)."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the environment's log groups."
  type        = number
  default     = 30
}

variable "ephemeral_object_expiry_days" {
  description = "Ephemeral environments only: objects in the data bucket expire after this many days."
  type        = number
  default     = 7
}

# --- warehouse (warehouse.tf) --------------------------------------------------------------------

variable "warehouse_db_name" {
  description = "The analytics warehouse's database (toolkit.toml's [databases.analytics])."
  type        = string
  default     = "analytics"
}

variable "warehouse_db_username" {
  description = "The warehouse's master user; its password is generated and rotated by RDS in Secrets Manager."
  type        = string
  default     = "analytics_admin"
}

variable "warehouse_instance_class" {
  description = "RDS instance class of the warehouse; null: the same as the orders database's (db_instance_class)."
  type        = string
  default     = null
}

variable "warehouse_allocated_storage_gb" {
  description = "Initial gp3 storage of the warehouse in GiB."
  type        = number
  default     = 20
}

variable "warehouse_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling of the warehouse in GiB (0 disables autoscaling)."
  type        = number
  default     = 200
}

variable "warehouse_multi_az" {
  description = "Standby of the warehouse in a second availability zone."
  type        = bool
  default     = false
}
