"""--endpoint: a local AWS emulator only, never with real credentials around; the provider override is
valid for the shipped AWS stacks, removed afterwards (and when a killed run left it), one run at a time."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.projects import REPO, available_engines, free_port
from toolkit.adapters.aws.emulator import emulator_account_id
from toolkit.cli import app
from toolkit.deploy.emulator import enter_emulator_mode, real_credential_sources
from toolkit.errors import GuardRefused, ToolkitError
from toolkit.terraform.emulator_override import OVERRIDE_NAME, override_content, provider_override
from toolkit.terraform.engine import resolve_engine
from toolkit.terraform.static import check_fmt, check_parses

pytestmark = pytest.mark.slow


def test_real_credentials_and_profiles_are_found(tmp_path):
    assert real_credential_sources({"AWS_ACCESS_KEY_ID": "testing"}, tmp_path) == []
    assert real_credential_sources({"AWS_PROFILE": "prod-admin"}, tmp_path) == ["$AWS_PROFILE"]
    assert real_credential_sources({"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, tmp_path) == [
        "$AWS_ACCESS_KEY_ID (a real access key id)"
    ]
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\naws_access_key_id = x\n")
    assert real_credential_sources({}, tmp_path) == [str(tmp_path / ".aws" / "credentials")]


def test_emulator_mode_refuses_real_credentials_and_remote_endpoints(tmp_path):
    with pytest.raises(
        GuardRefused, match=r"refusing emulator mode while real AWS credentials are configured: \$AWS_PROFILE"
    ):
        enter_emulator_mode("http://127.0.0.1:5000", {"AWS_PROFILE": "x"}, tmp_path)
    with pytest.raises(GuardRefused, match="is not a loopback address"):
        enter_emulator_mode("https://s3.amazonaws.com", {}, tmp_path)
    environ: dict[str, str] = {}
    enter_emulator_mode("http://127.0.0.1:5000", environ, tmp_path)
    assert environ["AWS_ACCESS_KEY_ID"] == "test" and environ["AWS_EC2_METADATA_DISABLED"] == "true"


AWS_STACK = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'


def aws_stack(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.tf").write_text(AWS_STACK)
    return path


def test_override_file_exists_only_while_terraform_runs(tmp_path):
    aws_stack(tmp_path)
    with pytest.raises(RuntimeError), provider_override(tmp_path, "http://127.0.0.1:5000", account_id="123456789012"):
        text = (tmp_path / OVERRIDE_NAME).read_text()
        assert 's3             = "http://127.0.0.1:5000"' in text and "skip_credentials_validation = true" in text
        raise RuntimeError("terraform failed")
    assert not (tmp_path / OVERRIDE_NAME).exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    with provider_override(plain, "http://127.0.0.1:5000"):
        assert not (plain / OVERRIDE_NAME).exists()  # no AWS provider, nothing to override
    assert not (plain / ".terraform").exists()


def test_the_override_allows_the_emulators_account_and_asks_for_it():
    text = override_content("http://127.0.0.1:5000", "123456789012")
    # The var files' allowed_account_ids (real accounts) would refuse the emulator's account; and with
    # skip_requesting_account_id the provider would check an empty account id against the list.
    assert 'allowed_account_ids         = ["123456789012"]' in text
    assert "skip_requesting_account_id" not in text
    assert 'sfn            = "http://127.0.0.1:5000"' in text and 'glue           = "http' in text


def test_an_override_left_by_a_killed_run_is_removed_by_the_next_run_of_any_kind(tmp_path):
    stack = aws_stack(tmp_path / "stack")
    stale = stack / OVERRIDE_NAME
    stale.write_text(override_content("http://127.0.0.1:1", "123456789012"))
    with provider_override(stack, None):  # a real run must never talk to a dead run's emulator
        assert not stale.exists()
    stale.write_text(override_content("http://127.0.0.1:1", "123456789012"))
    with provider_override(stack, "http://127.0.0.1:5000", account_id="000000000000"):
        assert "127.0.0.1:5000" in stale.read_text() and "127.0.0.1:1" not in stale.read_text()
    assert not stale.exists()
    assert ".terraform/" in (REPO / ".gitignore").read_text().split()  # where the lock file lives
    assert OVERRIDE_NAME in (REPO / ".gitignore").read_text().split()


def test_runs_of_one_stack_directory_never_see_each_others_override(tmp_path):
    stack = aws_stack(tmp_path / "stack")
    entered = threading.Event()
    release = threading.Event()

    def emulator_run():
        with provider_override(stack, "http://127.0.0.1:5000", account_id="123456789012"):
            entered.set()
            release.wait(10)

    first = threading.Thread(target=emulator_run)
    first.start()
    assert entered.wait(10)
    # A real run of the same directory (and another emulator run) waits instead of reading the override.
    held = pytest.raises(GuardRefused, match="another toolkit run has held")
    with held, provider_override(stack, None, lock_timeout=0.3):
        pass
    with held, provider_override(stack, "http://127.0.0.1:6000", account_id="123456789012", lock_timeout=0.3):
        pass
    release.set()
    first.join(10)
    with provider_override(stack, None, lock_timeout=5):
        assert not (stack / OVERRIDE_NAME).exists()
    # Real runs share the directory with each other.
    with provider_override(stack, None, lock_timeout=0.3), provider_override(stack, None, lock_timeout=0.3):
        pass


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["infra", "pipelines"])
def test_the_override_merges_into_the_shipped_aws_stacks(tmp_path, stack):
    """Terraform's own loader merges the override into the stack's provider block (an override for a
    provider block the stack does not have is an error), and fmt would not change it."""
    copy = tmp_path / stack
    shutil.copytree(REPO / "terraform" / "aws" / stack, copy, ignore=shutil.ignore_patterns(".terraform"))
    engine = resolve_engine(available_engines()[-1])
    with provider_override(copy, "http://127.0.0.1:5000", account_id="123456789012"):
        assert check_parses(engine, copy, tmp_path) == []
        assert check_fmt(engine, [copy], tmp_path) == []
    (copy / OVERRIDE_NAME).write_text('provider "aws" {\n  alias = "elsewhere"\n}\n')
    findings = check_parses(engine, copy, tmp_path)
    assert [f.message.split(":")[0] for f in findings] == ["Missing base provider configuration for override"]


@pytest.mark.slow
def test_the_account_id_is_the_one_the_emulator_answers_with(moto_endpoint):
    assert emulator_account_id(moto_endpoint) == "123456789012"  # moto's default account
    with pytest.raises(ToolkitError, match="did not answer STS GetCallerIdentity"):
        emulator_account_id(f"http://127.0.0.1:{free_port()}")


@pytest.mark.slow
def test_env_up_and_down_against_an_emulator_endpoint(s3_project, moto_endpoint, monkeypatch):
    config = s3_project / "toolkit.toml"
    config.write_text(config.read_text().replace(f', endpoint = "{moto_endpoint}"', ""))
    runner = CliRunner()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED"):
        monkeypatch.delenv(name, raising=False)  # emulator mode sets them; restored after the test
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    refused = runner.invoke(app, ["-C", str(s3_project), "env", "up", "pr-9", "--endpoint", moto_endpoint])
    assert refused.exit_code == 3 and "refusing emulator mode" in refused.output
    monkeypatch.delenv("AWS_PROFILE")
    up = runner.invoke(app, ["-C", str(s3_project), "env", "up", "pr-9", "--endpoint", moto_endpoint])
    assert up.exit_code == 0, up.output
    down = runner.invoke(app, ["-C", str(s3_project), "env", "down", "pr-9", "--endpoint", moto_endpoint])
    assert down.exit_code == 0, down.output
    assert not list(s3_project.rglob(OVERRIDE_NAME))
