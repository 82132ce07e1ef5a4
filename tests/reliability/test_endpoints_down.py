"""The database or the AWS endpoint down or refusing connections: bounded retries with backoff, then one
clear error naming the endpoint (password masked) and exit code 3."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.projects import free_port
from toolkit.cli import app

pytestmark = pytest.mark.slow

PASSWORD = "Rel1ability-Pw-7f3c9e"
DB_ATTEMPTS = 5  # toolkit.adapters.postgres.connection.connect: 0.5 + 1 + 2 + 4 s of backoff between them
AWS_ATTEMPTS = 5  # botocore standard retry mode, max_attempts=4 retries (toolkit.adapters.aws.clients)
FIGURES: dict[str, str] = {}


def invoke(project: Path, *args: str):
    started = time.monotonic()
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", *args])
    return result, time.monotonic() - started


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


class Hangup:
    """A server that accepts each connection and closes it at once: up, but refusing to talk."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def point_database_at(project: Path, port: int) -> None:
    common = project / "tfvars" / "common.tfvars.json"
    values = json.loads(common.read_text())
    values["db_port"] = port
    common.write_text(json.dumps(values))
    Path(values["db_password_file"]).write_text(PASSWORD)


def check_clear(output: str, *names: str) -> None:
    assert "Traceback" not in output and "internal error" not in output, output
    assert PASSWORD not in output
    for name in names:
        assert name in output, output


SECRET_STACK = """
terraform {
  backend "local" {}
}
variable "environment" { type = string }
output "database" {
  value = {
    engine              = "postgres"
    host                = "127.0.0.1"
    port                = 5432
    name                = "app"
    username            = "app"
    password_secret_arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app-master-AbCdEf"
    password_file       = null
  }
}
"""


@pytest.mark.parametrize("kind", ["refused", "hangup"])
def test_database_down_is_retried_then_named_with_the_password_masked(s3_project, kind, record_figure):
    server = Hangup() if kind == "hangup" else None
    port = server.port if server else closed_port()
    point_database_at(s3_project, port)
    try:
        result, took = invoke(s3_project, "env", "up", "pr-21")
    finally:
        if server:
            server.close()
    check_clear(result.output, f"@127.0.0.1:{port}/", "***", f"after {DB_ATTEMPTS} attempt(s)")
    assert result.exit_code == 3, result.output
    assert 7.5 <= took < 60, took  # the backoff happened, and stayed bounded
    if server:
        assert server.accepted == DB_ATTEMPTS
    FIGURES[f"database {kind}"] = f"exit 3 after {DB_ATTEMPTS} attempts in {took:.1f}s"
    record_figure("endpoints down", "; ".join(f"{k}: {v}" for k, v in sorted(FIGURES.items())))


def test_aws_endpoint_down_via_boto3_is_retried_then_named(s3_project, record_figure):
    server = Hangup()
    endpoint = f"http://127.0.0.1:{server.port}"
    try:
        result, took = invoke(s3_project, "bootstrap", "dev", "--endpoint", endpoint)
    finally:
        server.close()
    check_clear(result.output, "cannot reach S3 for bucket", endpoint)
    assert result.exit_code == 3 and took < 60, (result.output, took)
    assert server.accepted == AWS_ATTEMPTS  # the first attempt and its retries
    FIGURES["S3 (boto3) hangup"] = f"exit 3 after {server.accepted} attempts in {took:.1f}s"

    refused = f"http://127.0.0.1:{closed_port()}"
    result, took = invoke(s3_project, "env", "up", "pr-3", "--endpoint", refused)
    check_clear(result.output, "cannot reach S3 bucket", refused, "hint:")
    assert result.exit_code == 3 and took < 60, (result.output, took)
    FIGURES["S3 records (boto3) refused"] = f"exit 3 in {took:.1f}s"
    record_figure("endpoints down", "; ".join(f"{k}: {v}" for k, v in sorted(FIGURES.items())))


def test_secrets_manager_down_is_named(tmp_path, record_figure):
    root = tmp_path / "project"
    (root / "stack").mkdir(parents=True)
    (root / "stack" / "main.tf").write_text(SECRET_STACK)
    (root / "sql").mkdir()
    (root / "tfvars").mkdir()
    (root / "tfvars" / "ext.tfvars.json").write_text("{}")
    (root / "toolkit.toml").write_text(
        'stacks = ["infra"]\n[environments.ext]\nstacks = { infra = "stack" }\nbackend = { type = "local" }\n'
        'database = "external"\ncreate_workspace = true\n'
    )
    refused = f"http://127.0.0.1:{closed_port()}"
    result, took = invoke(root, "env", "up", "ext", "--endpoint", refused)
    check_clear(result.output, "cannot reach Secrets Manager", refused)
    assert result.exit_code == 3 and took < 60, (result.output, took)
    FIGURES["Secrets Manager refused"] = f"exit 3 in {took:.1f}s"
    record_figure("endpoints down", "; ".join(f"{k}: {v}" for k, v in sorted(FIGURES.items())))


def test_state_backend_down_is_named_by_terraform(s3_project, record_figure):
    """Terraform's own S3 client retries (5 attempts) and reports; toolkit passes its exit code through."""
    refused = f"http://127.0.0.1:{closed_port()}"
    config = s3_project / "toolkit.toml"
    config.write_text(re.sub(r'endpoint = "http://127\.0\.0\.1:\d+"', f'endpoint = "{refused}"', config.read_text()))
    result, took = invoke(s3_project, "env", "create", "dev")
    check_clear(result.output, "terraform init failed for stack 'infra'", refused.removeprefix("http://"), "hint:")
    assert "exceeded maximum number of attempts" in result.output
    assert result.exit_code == 1 and took < 120, (result.output, took)
    FIGURES["S3 backend (Terraform) refused"] = f"exit 1 (Terraform's) in {took:.1f}s"
    record_figure("endpoints down", "; ".join(f"{k}: {v}" for k, v in sorted(FIGURES.items())))
