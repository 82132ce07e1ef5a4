# The AWS environment's pipelines, deployed from the definitions toolkit rendered for it: Glue jobs (their
# scripts uploaded to the data bucket), Step Functions state machines, extra Firehose delivery streams,
# and legacy Data Pipelines behind a flag. Same output contract as terraform/local/pipelines.

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
