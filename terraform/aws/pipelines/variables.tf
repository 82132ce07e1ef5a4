# Shared with terraform/aws/infra (same names, same var files).

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
}

variable "owner" {
  description = "Team or person answerable for the environment (the owner tag)."
  type        = string
}

variable "ephemeral" {
  description = "Short-lived environment (pr-<n>): short log retention."
  type        = bool
  default     = false
}

variable "ttl" {
  description = "How long an ephemeral environment may live (e.g. 72h); becomes the ttl tag that the reaper reads."
  type        = string
  default     = null
}

variable "expires_at" {
  description = "RFC 3339 time after which an ephemeral environment may be reaped (expires-at tag); fixed at creation."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the data bucket, if any; the pipeline roles may then use it through S3."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the environment's log groups."
  type        = number
  default     = 30
}

variable "vpc_id" {
  description = "VPC of the database: Glue jobs that use the database connection create their network interfaces there."
  type        = string
}

# --- fed by toolkit ------------------------------------------------------------------------------

variable "rendered_pipelines_dir" {
  description = "Absolute path of the rendered pipeline definitions (<kind>/<name>.json); injected by toolkit."
  type        = string
}

variable "glue_scripts_dir" {
  description = "Absolute path of the Glue job scripts (*.py); injected by toolkit."
  type        = string
}

variable "data_bucket" {
  description = "Name of the data bucket: the infra stack's output of the same name, fed by toolkit."
  type        = string
}

variable "event_stream" {
  description = "Name of the Kinesis event stream: the infra stack's output of the same name, fed by toolkit."
  type        = string
}

variable "databases" {
  description = "The infra stack's databases output, fed by toolkit: jobs that load into the warehouse may read its secret."
  # Only what is used here; the output's other databases and attributes are dropped on conversion.
  type = object({
    analytics = object({
      password_secret_arn = string
    })
  })
}

variable "glue_database" {
  description = "Data Catalog database (name) of the environment: the infra stack's output, fed by toolkit."
  type        = string
}

variable "glue_connection" {
  description = "Glue connection (name) into the database's VPC: the infra stack's output, fed by toolkit."
  type        = string
}

# --- pipelines -----------------------------------------------------------------------------------

variable "enable_data_pipeline" {
  description = "Deploy datapipeline/*.json definitions. AWS Data Pipeline is closed to new customers: legacy only."
  type        = bool
  default     = false
}
