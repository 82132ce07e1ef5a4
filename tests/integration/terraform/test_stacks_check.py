"""`toolkit stacks check` end to end: the real Terraform engines on the repository's own stacks and on
copies of them with one thing broken."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.projects import REPO, available_engines
from toolkit.cli import app

pytestmark = pytest.mark.slow


def invoke(project: Path, *args: str):
    return CliRunner().invoke(app, ["-C", str(project), "--plain", "-q", *args])


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the repository's toolkit.toml, stacks, var files and pipelines, to break one thing in."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("terraform", "tfvars", "sql", "pipelines"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(".terraform"))
    shutil.copy(REPO / "toolkit.toml", root / "toolkit.toml")
    return root


@pytest.mark.parametrize("engine", available_engines())
def test_the_repository_stacks_pass(engine):
    result = invoke(REPO, "--engine", engine, "stacks", "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert report["directories"] == [
        "terraform/local/infra",
        "terraform/aws/infra",
        "terraform/local/pipelines",
        "terraform/aws/pipelines",
    ]
    assert report["environments"] == ["local", "dev", "qa", "prod", "ephemeral"]


def test_an_output_renamed_in_the_aws_stack_only_fails_the_check(project):
    outputs = project / "terraform/aws/infra/outputs.tf"
    outputs.write_text(outputs.read_text().replace('output "event_stream"', 'output "events_stream"'))
    result = invoke(project, "stacks", "check")
    assert result.exit_code == 1, result.output
    assert (
        "terraform/aws/infra/outputs.tf:45: stack 'infra': output 'events_stream' is declared in "
        "terraform/aws/infra but not in terraform/local/infra [contract]"
    ) in result.stdout
    assert (
        "stack 'infra': output 'event_stream' is declared in terraform/local/infra but not in "
        "terraform/aws/infra [contract]"
    ) in result.stdout
    # the pipelines stack of every AWS environment loses its input, and says so
    assert "environment 'prod', stack 'pipelines': variable 'event_stream' has no default" in result.stdout


@pytest.mark.parametrize("engine", available_engines())
def test_fmt_drift_and_a_parse_error_are_found_by_the_engine(project, engine):
    (project / "terraform/aws/pipelines/extra.tf").write_text("locals {\n  a=1\n}\n")
    (project / "terraform/local/pipelines/broken.tf").write_text('variable "environment" {\n  type = string\n}\n')
    result = invoke(project, "--engine", engine, "stacks", "check", "--json")
    assert result.exit_code == 1, result.output
    findings = {(f["rule"], f["file"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert findings == {
        ("fmt", "terraform/aws/pipelines/extra.tf", 1),
        ("parse", "terraform/local/pipelines/variables.tf", 1),  # Terraform names the second declaration
    }
    text = invoke(project, "--engine", engine, "stacks", "check")
    assert 'Duplicate variable declaration: A variable named "environment" was already declared' in text.stdout


def test_a_syntax_error_is_one_parse_finding_with_its_line(project):
    (project / "terraform/aws/infra/broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket =\n}\n')
    result = invoke(project, "stacks", "check", "--json")
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["file"], finding["line"]) == (
        "parse",
        "terraform/aws/infra/broken.tf",
        2,
    )
    assert finding["message"].startswith("Invalid expression")


def test_an_error_inside_a_module_the_stack_calls_is_a_parse_finding(project):
    """The AWS infra stack calls ./modules/postgres: the check installs it (offline, a local path) and
    Terraform's loader reads it, so a broken module is found, not hidden behind "module not installed"."""
    module = project / "terraform/aws/infra/modules/postgres/main.tf"
    module.write_text(module.read_text() + 'resource "aws_s3_bucket" "x" {\n  bucket =\n}\n')
    result = invoke(project, "stacks", "check", "--json")
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["file"]) == ("parse", "terraform/aws/infra/modules/postgres/main.tf")
    assert finding["message"].startswith("Invalid expression")


def test_the_ephemeral_template_gives_every_variable_a_value(project):
    """tfvars/ephemeral.tfvars.json is what every pr-<n> environment gets: toolkit.toml's [ephemeral]
    template is checked as an environment of its own."""
    assert invoke(project, "stacks", "check").exit_code == 0

    template = project / "tfvars/ephemeral.tfvars.json"
    values = json.loads(template.read_text())
    del values["db_instance_class"]
    values["db_instance_size"] = "db.t4g.micro"
    template.write_text(json.dumps(values, indent=2))
    result = invoke(project, "stacks", "check")
    assert result.exit_code == 1
    assert "environment 'ephemeral', stack 'infra': variable 'db_instance_class' has no default" in result.stdout
    assert "environment 'ephemeral': 'db_instance_size' is not a variable of any of its stacks" in result.stdout
