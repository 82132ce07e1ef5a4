# Names, tags and the account facts every resource of the stack uses.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  prefix = "${var.project}-${var.environment}"
  # Every name is `name` plus a short suffix. `name` is at most 40 characters: a longer prefix is cut
  # and given a hash of the whole, so RDS identifiers and bucket names stay within their 63 characters
  # and two long environment names never collide.
  name = length(local.prefix) <= 40 ? local.prefix : "${trimsuffix(substr(local.prefix, 0, 32), "-")}-${substr(sha256(local.prefix), 0, 7)}"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  tags = merge(
    {
      project     = var.project
      environment = var.environment
      managed-by  = "toolkit"
      owner       = var.owner
    },
    var.ttl == null ? {} : { ttl = var.ttl },
    var.expires_at == null ? {} : { expires-at = var.expires_at },
  )
}
