# The AWS environment's infrastructure: PostgreSQL on RDS, the data bucket, the event stream and the
# Firehose delivery stream that lands those events in the bucket. Same output contract as
# terraform/local/infra (checked by `toolkit stacks check`).

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      # 6.x, the current major: new stacks start there rather than face a 5 -> 6 migration soon;
      # `~> 6.0` takes 6.x fixes and features, never a breaking 7.0. No .terraform.lock.hcl is
      # committed yet (it needs the registry): `make validate-aws` on a machine with internet access
      # writes it next to this file; commit it to pin the exact build (docs/aws.md).
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: toolkit passes bucket, key, region and use_lockfile per environment.
  backend "s3" {}
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
