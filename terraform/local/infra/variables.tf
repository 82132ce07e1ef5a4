variable "environment" {
  description = "Environment name; injected by toolkit, never set in a var file."
  type        = string
}

variable "project" {
  description = "Short project name used as a prefix for every resource name."
  type        = string
}

variable "db_port" {
  description = "TCP port of the local PostgreSQL server on 127.0.0.1."
  type        = number
}

variable "db_name" {
  description = "Database the migrations run in."
  type        = string
}

variable "db_username" {
  description = "Login role that owns the database."
  type        = string
}

variable "db_password_file" {
  description = "Where the local password lives, relative to the project root (created by toolkit, mode 0600)."
  type        = string
}

variable "warehouse_db_name" {
  description = "The analytics warehouse's database, on the same local server."
  type        = string
  default     = "analytics"
}

variable "warehouse_db_username" {
  description = "Login role that owns the warehouse database."
  type        = string
  default     = "analytics_app"
}

variable "warehouse_db_password_file" {
  description = "Where the warehouse role's local password lives, relative to the project root (created by toolkit, mode 0600)."
  type        = string
  default     = ".toolkit/local/postgres/analytics-password"
}
