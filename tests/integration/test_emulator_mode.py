"""--endpoint: a local AWS emulator only, never with real credentials around, override file removed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolkit.aws.emulator import OVERRIDE_NAME, enter_emulator_mode, provider_override, real_credential_sources
from toolkit.cli import app
from toolkit.errors import GuardRefused


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


def test_override_file_exists_only_while_terraform_runs(tmp_path):
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
    )
    with pytest.raises(RuntimeError), provider_override(tmp_path, "http://127.0.0.1:5000"):
        text = (tmp_path / OVERRIDE_NAME).read_text()
        assert 's3              = "http://127.0.0.1:5000"' in text and "skip_credentials_validation = true" in text
        raise RuntimeError("terraform failed")
    assert not (tmp_path / OVERRIDE_NAME).exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    with provider_override(plain, "http://127.0.0.1:5000"):
        assert not (plain / OVERRIDE_NAME).exists()  # no AWS provider, nothing to override


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
