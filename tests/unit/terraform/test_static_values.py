"""Rules (d) and (e): every variable without a default gets a value; every var-file key is declared."""

from __future__ import annotations

from pathlib import Path

from toolkit.project.varfiles import var_file_keys
from toolkit.terraform.hcl import stack_from_texts
from toolkit.terraform.static import EnvironmentInputs, check_protection, check_values

ROOT = Path("/project")
INFRA = ROOT / "terraform/aws/infra"
PIPELINES = ROOT / "terraform/aws/pipelines"
COMMON = ROOT / "tfvars/common.tfvars.json"
DEV = ROOT / "tfvars/dev.tfvars.json"

INFRA_TF = """
variable "environment" {
  type = string
}

variable "project" {
  type = string
}

variable "db_instance_class" {
  type = string
}

variable "protected" {
  type    = bool
  default = false

  validation {
    condition     = var.protected == true || var.protected == false
    error_message = "a bool"
  }
}

output "data_bucket" {
  value = aws_s3_bucket.data.bucket
}
"""

PIPELINES_TF = """
variable "project" {}

variable "rendered_pipelines_dir" {
  type = string
}

variable "data_bucket" {
  type = string
}
"""

SOURCES = {
    INFRA: stack_from_texts(INFRA, {INFRA / "variables.tf": INFRA_TF}),
    PIPELINES: stack_from_texts(PIPELINES, {PIPELINES / "variables.tf": PIPELINES_TF}),
}
DEV_ENV = EnvironmentInputs("dev", (("infra", INFRA), ("pipelines", PIPELINES)), (COMMON, DEV))


def check(common: str, dev: str):
    keys = {COMMON: var_file_keys(COMMON.name, common), DEV: var_file_keys(DEV.name, dev)}
    return check_values(DEV_ENV, SOURCES, keys, ROOT)


def test_values_from_var_files_toolkit_and_earlier_outputs_leave_nothing_missing():
    # environment and rendered_pipelines_dir are injected; data_bucket is the infra stack's output
    assert check('{"project": "orders"}', '{\n  "db_instance_class": "db.t4g.small"\n}') == []


def test_a_variable_without_default_or_value_is_a_finding_at_its_declaration():
    [finding] = check('{"project": "orders"}', "{}")
    assert finding.rule == "missing-value"
    assert (finding.file, finding.line) == ("terraform/aws/infra/variables.tf", 10)
    assert finding.message == (
        "environment 'dev', stack 'infra': variable 'db_instance_class' has no default and no value in "
        "common.tfvars.json, dev.tfvars.json, and no earlier stack outputs it"
    )


def test_an_output_feeds_only_the_stacks_after_it():
    reversed_env = EnvironmentInputs("dev", (("pipelines", PIPELINES), ("infra", INFRA)), (COMMON, DEV))
    keys = {COMMON: {"project": 1}, DEV: {"db_instance_class": 1}}
    [finding] = check_values(reversed_env, SOURCES, keys, ROOT)
    assert "variable 'data_bucket'" in finding.message


def test_an_unknown_var_file_key_is_a_finding_at_its_line():
    [finding] = check('{"project": "orders"}', '{\n  "db_instance_class": "x",\n  "db_instance_klass": "y"\n}')
    assert (finding.rule, finding.file, finding.line) == ("unknown-key", "tfvars/dev.tfvars.json", 3)
    assert finding.message == (
        "environment 'dev': 'db_instance_klass' is not a variable of any of its stacks "
        "(terraform/aws/infra, terraform/aws/pipelines)"
    )


def test_a_value_toolkit_injects_must_not_be_in_a_var_file():
    [finding] = check('{"project": "orders", "environment": "prod"}', '{"db_instance_class": "x"}')
    assert (finding.rule, finding.file, finding.line) == ("injected-key", "tfvars/common.tfvars.json", 1)
    assert "'environment' is set by toolkit" in finding.message


def test_hcl_var_files_are_read_too():
    assert var_file_keys("dev.tfvars", 'project = "orders"\n\ndb_instance_class = "x"\n') == {
        "project": 1,
        "db_instance_class": 3,
    }


CONFIG = ROOT / "toolkit.toml"
PROD = ROOT / "tfvars/prod.tfvars.json"


def test_protection_agrees_between_toolkit_toml_and_the_var_files():
    assert check_protection("prod", True, (PROD, 4, True), CONFIG, ROOT) == []
    assert check_protection("dev", False, None, CONFIG, ROOT) == []
    assert check_protection("dev", False, (DEV, 2, False), CONFIG, ROOT) == []


def test_a_protected_environment_whose_stacks_are_not_protected_is_a_finding():
    [unset] = check_protection("prod", True, None, CONFIG, ROOT)
    assert (unset.rule, unset.file, unset.line) == ("protection", "toolkit.toml", 0)
    assert unset.message == (
        "environment 'prod' is protected in toolkit.toml but its var files do not set protected = true: "
        "its database would get no deletion protection and no final snapshot"
    )
    [false] = check_protection("prod", True, (PROD, 4, False), CONFIG, ROOT)
    assert (false.file, false.line) == ("tfvars/prod.tfvars.json", 4)


def test_protected_stacks_in_an_unprotected_environment_is_a_finding():
    [finding] = check_protection("dev", False, (DEV, 2, True), CONFIG, ROOT)
    assert finding.message == "environment 'dev' sets protected = true but is not protected in toolkit.toml"
