variable "environment" {
  description = "Environment name; injected by toolkit, never set in a var file."
  type        = string
}

variable "project" {
  description = "Short project name used as a prefix for every resource name."
  type        = string
}

variable "db_port" {
  description = "TCP port of the local PostgreSQL server on 127.0.0.1 (chosen per checkout by toolkit init)."
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
