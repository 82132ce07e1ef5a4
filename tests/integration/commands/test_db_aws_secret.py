"""An external database whose password lives in Secrets Manager (a real moto server), and a sensitive
Terraform output used as a placeholder: the password is read by the ARN in the outputs, never shown."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.running import invoke

pytestmark = pytest.mark.slow

STACK = """
terraform {
  backend "local" {}
}
variable "environment" { type = string }
variable "db_port" { type = number }
variable "db_name" { type = string }
variable "db_username" { type = string }
variable "db_password_secret_arn" { type = string }
variable "api_token" {
  type      = string
  sensitive = true
}
output "database" {
  value = {
    engine              = "postgres"
    host                = "127.0.0.1"
    port                = var.db_port
    name                = var.db_name
    username            = var.db_username
    password_secret_arn = var.db_password_secret_arn
    password_file       = null
  }
}
output "api_token" {
  value     = var.api_token
  sensitive = true
}
"""


@pytest.fixture
def external_project(tmp_path, database, moto_endpoint):
    sm = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")
    arn = sm.create_secret(Name=f"{database.name}/master", SecretString=json.dumps({"password": database.password}))[
        "ARN"
    ]
    root = tmp_path / "project"
    (root / "terraform" / "ext").mkdir(parents=True)
    (root / "terraform" / "ext" / "main.tf").write_text(STACK)
    (root / "tfvars").mkdir()
    (root / "tfvars" / "ext.tfvars.json").write_text(
        json.dumps(
            {
                "db_port": database.port,
                "db_name": database.name,
                "db_username": database.username,
                "db_password_secret_arn": arn,
                "api_token": "tok-0123456789abcdef",
            }
        )
    )
    (root / "sql").mkdir()
    (root / "sql" / "V1__settings.sql").write_text(
        "CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);\n"
        "INSERT INTO settings VALUES ('api_token', '${api_token}'), ('env', '${environment}');\n"
    )
    (root / "toolkit.toml").write_text(
        'stacks = ["infra"]\n\n[project]\nname = "demo"\n\n'
        '[environments.ext]\nstacks = { infra = "terraform/ext" }\nbackend = { type = "local" }\n'
        'var_files = ["ext.tfvars.json"]\ndatabase = "external"\ncreate_workspace = true\n'
    )
    return root, moto_endpoint


def test_password_from_secrets_manager_and_sensitive_placeholder_masked(external_project, database, db_conn):
    project, endpoint = external_project
    up = invoke(project, "env", "up", "ext", "--endpoint", endpoint)
    assert up.exit_code == 0, up.output
    with db_conn.cursor() as cur:
        cur.execute("SELECT value FROM settings ORDER BY name")
        assert cur.fetchall() == [("tok-0123456789abcdef",), ("ext",)]

    (project / "sql" / "V2__more.sql").write_text("UPDATE settings SET value = '${api_token}-v2';\n")
    dry = invoke(project, "db", "migrate", "ext", "--dry-run", "--endpoint", endpoint)
    assert dry.exit_code == 0, dry.output
    assert "UPDATE settings SET value = '***-v2';" in dry.stdout
    status = invoke(project, "db", "status", "ext", "--json", "--endpoint", endpoint)
    assert json.loads(status.stdout)["current"] == "1"
    for result in (up, dry, status):
        assert "tok-0123456789abcdef" not in result.output
        assert database.password not in result.output
