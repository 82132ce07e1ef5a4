"""The first hour's defects that need a real database or Terraform run (issue 17, section 3), from the CLI:
a closed pipe after `db status --json`, drift's database differences with their fields, Terraform's
messages without colour codes, and status after `make destroy`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg2
import pytest

from tests.projects import free_port, new_state_dir, write_local_project
from tests.running import invoke

pytestmark = pytest.mark.slow


@pytest.fixture
def up_project(tmp_path):
    project = write_local_project(
        tmp_path / "project", port=free_port(), state_dir=new_state_dir(), with_pipelines=True
    )
    result = invoke(project, "env", "up", "local")
    assert result.exit_code == 0, result.output
    yield project
    invoke(project, "env", "down", "local")


def test_db_status_json_into_a_closed_pipe_ends_quietly(up_project):
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(up_project), "-q", "db", "status", "local", "--json"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "BrokenPipeError" not in proc.stderr and "internal error" not in proc.stderr


def test_drift_json_keeps_the_fields_of_each_database_difference(up_project):
    values = json.loads((up_project / "tfvars" / "local.tfvars.json").read_text())
    password = (up_project / values["db_password_file"]).read_text().strip()
    conn = psycopg2.connect(host="127.0.0.1", port=values["db_port"], dbname="demo", user="demo_app", password=password)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN hand_made text")
    conn.close()
    result = invoke(up_project, "drift", "local", "--json")
    assert result.exit_code == 1, result.output
    (difference,) = json.loads(result.stdout)["database"]
    assert difference["kind"] == "column" and difference["name"] == "public.customers.hand_made"
    assert difference["change"] == "unexpected" and difference["expected"] is None
    assert isinstance(difference["actual"], str)


def test_terraform_errors_carry_no_colour_codes(up_project):
    result = invoke(up_project, "env", "force-unlock", "local", "no-such-lock")
    assert result.exit_code != 0
    assert "terraform force-unlock failed" in result.output
    assert "\x1b[" not in result.output


def test_status_after_destroy_says_the_environment_is_down(up_project):
    assert invoke(up_project, "env", "down", "local").exit_code == 0
    result = invoke(up_project, "env", "status", "local")
    assert result.exit_code == 0, result.output
    assert "is not bound" not in result.output
    assert "migrations  none applied: the environment is not up" in result.stdout
