"""Messages a user can act on: what is wrong, where it came from, and a hint."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.errors import ConfigError, UnknownEnvironment
from toolkit.project.loader import load_project

BASE = """
stacks = ["infra"]
[environments.local]
stacks = {{ infra = "stack" }}
backend = {backend}
var_files = ["local.tfvars.json"]
{extra}
"""
EPHEMERAL = """
[ephemeral]
patterns = ["pr-<n>", "eph-<slug>"]
ttl = {ttl}
stacks = { infra = "stack" }
backend = { type = "local" }
var_files = ["local.tfvars.json"]
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text('variable "environment" { type = string }\n')
    (tmp_path / "tfvars").mkdir()
    (tmp_path / "tfvars" / "local.tfvars.json").write_text("{}")
    return tmp_path


def write(project, *, backend='{ type = "local" }', extra="", ttl='"72h"'):
    text = BASE.format(backend=backend, extra=extra) + EPHEMERAL.replace("{ttl}", ttl)
    (project / "toolkit.toml").write_text(text)
    return project


def config_error(project, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(write(project, **kwargs))
    return info.value


def test_a_missing_bucket_has_a_hint(project):
    error = config_error(project, backend='{ type = "s3", region = "eu-west-1" }')
    assert "environments.local.backend.bucket: must be a non-empty string (required)" in str(error)
    assert 'bucket = "' in error.hint and "toolkit bootstrap" in error.hint


def test_a_quoted_boolean_has_a_hint(project):
    error = config_error(project, extra='protected = "yes"')
    assert "environments.local.protected: must be true or false, not 'yes'" in str(error)
    assert error.hint == "write protected = true or protected = false, without quotes"


def test_a_bad_ttl_has_a_hint(project):
    error = config_error(project, ttl='"3 days"')
    assert "ephemeral.ttl: '3 days' is not a duration" in str(error)
    assert error.hint.startswith('e.g. ttl = "72h"')


def test_a_bad_toolkit_engine_names_the_variable(project):
    write(project)
    result = CliRunner().invoke(app, ["-C", str(project), "doctor"], env={"TOOLKIT_ENGINE": "terrafrom"})
    assert "unknown engine 'terrafrom' (from environment variable TOOLKIT_ENGINE)" in result.output


@pytest.mark.parametrize(
    ("name", "reason", "hint"),
    [
        ("LOCAL", "environment names are lower-case", "did you mean 'local'?"),
        ("PR-12", "environment names are lower-case", "did you mean 'pr-12'?"),
        ("x" * 41, "it is 41 characters long; environment names have at most 40", "lower-case letters"),
        ("my_env", "not a valid environment name", "lower-case letters, digits and '-'"),
        (
            "eph-" + "a" * 25,
            "it has the form of an ephemeral name but is 29 characters long; [ephemeral].max_length is 24",
            "toolkit env name --from-branch",
        ),
    ],
)
def test_an_unknown_environment_says_why(project, name, reason, hint):
    loaded = load_project(write(project))
    with pytest.raises(UnknownEnvironment) as info:
        loaded.environment(name)
    assert f"unknown environment {name!r} (known: local; ephemeral: pr-<n>, eph-<slug>): {reason}" in str(info.value)
    assert hint in info.value.hint


def test_a_plain_typo_keeps_the_generic_message(project):
    with pytest.raises(UnknownEnvironment) as info:
        load_project(write(project)).environment("prd")
    assert str(info.value).startswith("unknown environment 'prd' (known: local; ephemeral: pr-<n>, eph-<slug>)\n")


def test_env_list_without_aws_credentials_lists_the_named_ones(project, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3 = '{ type = "s3", bucket = "acme-state", region = "eu-west-1" }'
    (project / "toolkit.toml").write_text(
        BASE.format(backend=s3, extra="") + EPHEMERAL.replace("{ttl}", '"72h"').replace('{ type = "local" }', s3)
    )
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", "env", "list"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["local", "named", "-", "-"]
    assert "ephemeral environments not listed: cannot reach S3 bucket 'acme-state'" in result.stderr
    assert "credentials" in result.stderr
