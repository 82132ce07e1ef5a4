# The AWS environment's pipelines, deployed from the definitions toolkit rendered for it: Glue jobs (their
# scripts uploaded to the data bucket), Step Functions state machines, extra Firehose delivery streams,
# and legacy Data Pipelines behind a flag. Same output contract as terraform/local/pipelines.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      # 6.x: the current major; `~> 6.0` takes fixes and features, never a breaking 7.0. Needed for the
      # `region` attribute of data.aws_region (6.0) that replaced the deprecated `name`.
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
