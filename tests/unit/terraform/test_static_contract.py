"""Rule (c): every platform's directory of a stack declares the same outputs with the same attributes."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.terraform.hcl import stack_from_texts
from toolkit.terraform.static import check_contract, check_references

ROOT = Path("/project")
LOCAL = ROOT / "terraform/local/infra"
AWS = ROOT / "terraform/aws/infra"

LOCAL_OUTPUTS = """
output "database" {
  value = {
    engine        = "postgres"
    host          = "127.0.0.1"
    password_file = var.password_file
  }
}

output "data_bucket" {
  value = terraform_data.bucket.output
}
"""

AWS_OUTPUTS = """
output "database" {
  value = {
    engine          = aws_db_instance.db.engine
    "host"          = aws_db_instance.db.address
    password_file   = null
  }
}

output "data_bucket" {
  value = aws_s3_bucket.data.bucket
}
"""


def contract(local: str, aws: str):
    sources = {
        LOCAL: stack_from_texts(LOCAL, {LOCAL / "outputs.tf": local}),
        AWS: stack_from_texts(AWS, {AWS / "outputs.tf": aws}),
    }
    return check_contract("infra", sources, ROOT)


def test_the_same_outputs_and_attributes_are_no_finding():
    assert contract(LOCAL_OUTPUTS, AWS_OUTPUTS) == []


def test_an_output_renamed_in_one_stack_only_names_both_stacks_and_the_output():
    renamed = AWS_OUTPUTS.replace('output "data_bucket"', 'output "bucket"')
    findings = contract(LOCAL_OUTPUTS, renamed)
    assert [(f.file, f.line, f.message) for f in findings] == [
        (
            "terraform/aws/infra/outputs.tf",
            10,
            "stack 'infra': output 'bucket' is declared in terraform/aws/infra but not in terraform/local/infra",
        ),
        (
            "terraform/local/infra/outputs.tf",
            10,
            "stack 'infra': output 'data_bucket' is declared in terraform/local/infra but not in terraform/aws/infra",
        ),
    ]
    assert {f.rule for f in findings} == {"contract"}


def test_an_attribute_missing_from_one_object_literal_is_a_finding():
    findings = contract(LOCAL_OUTPUTS, AWS_OUTPUTS.replace("    password_file   = null\n", ""))
    assert [f.message for f in findings] == [
        "stack 'infra': output 'database' has attribute 'password_file' in terraform/local/infra "
        "but not in terraform/aws/infra"
    ]
    assert findings[0].file == "terraform/local/infra/outputs.tf" and findings[0].line == 2


def test_outputs_that_are_not_object_literals_are_compared_by_name_only():
    literal = AWS_OUTPUTS[AWS_OUTPUTS.index("value = {") : AWS_OUTPUTS.index("  }\n") + 3]
    computed = AWS_OUTPUTS.replace(literal, "value = merge(local.database, { password_file = null })\n")
    assert "merge(" in computed and "engine" not in computed
    assert contract(LOCAL_OUTPUTS, computed) == []


def test_a_source_the_reader_cannot_parse_raises_with_the_file_name():
    with pytest.raises(ValueError, match="outputs.tf"):
        stack_from_texts(AWS, {AWS / "outputs.tf": 'output "x" {\n  value = \n}\n'})


def test_a_reference_to_something_undeclared_is_a_finding_where_it_is_used():
    stack = ROOT / "terraform/aws/pipelines"
    text = """
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "data_bucket" {}

locals {
  # var.not_checked: comments and descriptions are not expressions
  bucket_arn = "arn:aws:s3:::${var.data_bucket}"
}

resource "aws_iam_role" "glue" {
  name        = local.role_name
  description = "reads var.nothing"
}

output "role" {
  value = [aws_iam_role.glue.arn, aws_iam_role.states.arn, data.aws_region.current.region, local.bucket_arn]
}
"""
    source = stack_from_texts(stack, {stack / "main.tf": text})
    findings = check_references(source, ROOT)
    assert [(f.rule, f.file, f.line, f.message) for f in findings] == [
        (
            "reference",
            "terraform/aws/pipelines/main.tf",
            23,
            "aws_iam_role.states is referenced but not declared in terraform/aws/pipelines",
        ),
        (
            "reference",
            "terraform/aws/pipelines/main.tf",
            23,
            "data.aws_region.current is referenced but not declared in terraform/aws/pipelines",
        ),
        (
            "reference",
            "terraform/aws/pipelines/main.tf",
            18,
            "local.role_name is referenced but not declared in terraform/aws/pipelines",
        ),
    ]


def test_moved_blocks_name_what_the_stack_no_longer_declares_but_other_references_still_count():
    stack = ROOT / "terraform/aws/infra"
    text = """
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

moved {
  from = aws_db_instance.database
  to   = module.orders_database.aws_db_instance.this
}

removed {
  from = aws_s3_bucket.old
}

output "x" {
  value = aws_db_instance.database.address
}
"""
    findings = check_references(stack_from_texts(stack, {stack / "main.tf": text}), ROOT)
    assert [(f.line, f.message) for f in findings] == [
        (20, "aws_db_instance.database is referenced but not declared in terraform/aws/infra")
    ]
