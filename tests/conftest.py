"""Shared fixtures: a real PostgreSQL server, a moto server, fixture projects. No mocks of our own parts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_secret_leaks_between_tests():
    from toolkit.support import masking

    yield
    masking.forget_all()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One embedded PostgreSQL 18 for the whole run (fsync off); tests get fresh databases on it."""
    import shutil
    import tempfile

    from toolkit.adapters.postgres.server import EmbeddedServer

    # Outside pytest's own temp root: pytest resets that folder to mode 0700 at every session start,
    # which would lock the server's unprivileged user out if another pytest session starts meanwhile.
    root = Path(tempfile.mkdtemp(prefix="toolkit-test-pg-"))
    server = EmbeddedServer(data_dir=root / "data", port=free_port(), fast=True)
    try:
        server.ensure_running()
        yield server
    finally:
        server.remove()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database(pg_server):
    """A fresh, empty database and login role on the session server, as a DatabaseTarget."""
    from toolkit.adapters.postgres.connection import DatabaseTarget
    from toolkit.adapters.postgres.server import provision

    name = f"t_{uuid.uuid4().hex[:12]}"
    password = f"pw-{uuid.uuid4().hex}"
    provision(pg_server, database=name, username=name, password=password)
    return DatabaseTarget(host="127.0.0.1", port=pg_server.port, name=name, username=name, password=password)


@pytest.fixture
def db_conn(database):
    from toolkit.adapters.postgres.connection import connect

    conn = connect(database)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real local AWS endpoint (moto server) on a free loopback port, with dummy credentials."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed after the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto server did not start")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


_STATE_DIRS: list[Path] = []


def new_state_dir() -> Path:
    """A state folder for a test project, outside pytest's temp root: pytest re-locks that root to 0700
    whenever a session starts (another worktree's included), and toolkit never opens folders above its
    state dir to the database's unprivileged user (the tests run as root). Stopped and removed at the
    end of the session at the latest (`_stop_every_test_server`)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="toolkit-test-state-"))
    _STATE_DIRS.append(path)
    return path


def write_local_project(
    root: Path,
    *,
    port: int,
    sql_from: Path | None = REPO / "sql",
    state_dir: Path | None = None,
    with_pipelines: bool = False,
) -> Path:
    """A copy of the reference project's local environment, on its own port, under `root`; with
    `with_pipelines`, also its pipelines and the pipelines stack (stacks = infra, pipelines). Its state
    (and database) goes to `state_dir`, by default a new folder from `new_state_dir()`."""
    import json
    import shutil

    state_dir = state_dir or new_state_dir()

    shutil.copytree(REPO / "terraform" / "local" / "infra", root / "terraform" / "local" / "infra")
    stacks, mapping = '["infra"]', '{ infra = "terraform/local/infra" }'
    if with_pipelines:
        shutil.copytree(REPO / "terraform" / "local" / "pipelines", root / "terraform" / "local" / "pipelines")
        shutil.copytree(REPO / "pipelines", root / "pipelines")
        stacks = '["infra", "pipelines"]'
        mapping = '{ infra = "terraform/local/infra", pipelines = "terraform/local/pipelines" }'

    (root / "tfvars").mkdir()
    (root / "tfvars" / "local.tfvars.json").write_text(
        json.dumps(
            {
                "project": "demo",
                "db_port": port,
                "db_name": "demo",
                "db_username": "demo_app",
                "db_password_file": ".toolkit/local/postgres/password",
            }
        )
    )
    if sql_from is not None:
        shutil.copytree(sql_from, root / "sql")
    else:
        (root / "sql").mkdir()
    state = f'state_dir = "{state_dir}"\n'
    (root / "toolkit.toml").write_text(
        f'stacks = {stacks}\n\n[project]\nname = "demo"\n{state}\n'
        f"[environments.local]\nstacks = {mapping}\n"
        'backend = { type = "local" }\nvar_files = ["local.tfvars.json"]\ndatabase = "embedded"\ncreate_workspace = true\n'
    )
    return root


@pytest.fixture
def local_project(tmp_path) -> Iterator[Path]:
    """The reference local environment in a temp folder; its state (and database) outside pytest's temp
    root (see `new_state_dir`)."""
    state_dir = new_state_dir()
    try:
        yield write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir)
    finally:
        remove_state_dir(state_dir)


@pytest.fixture
def full_local_project(tmp_path) -> Iterator[Path]:
    """The whole reference local environment: infra and pipelines stacks, SQL, pipeline definitions."""
    state_dir = new_state_dir()
    try:
        yield write_local_project(tmp_path / "project", port=free_port(), state_dir=state_dir, with_pipelines=True)
    finally:
        remove_state_dir(state_dir)


def remove_state_dir(state_dir: Path) -> None:
    """Stop every embedded PostgreSQL whose data is under `state_dir`, whatever the test left behind,
    then delete the folder."""
    import shutil

    from toolkit.adapters.postgres.server import EmbeddedServer

    for pid_file in sorted(state_dir.glob("**/postmaster.pid")):
        try:
            EmbeddedServer(data_dir=pid_file.parent, port=0).stop()
        except Exception as exc:  # keep stopping the others; say which one stays
            print(f"could not stop the PostgreSQL in {pid_file.parent}: {exc}")
    shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _stop_every_test_server() -> Iterator[None]:
    """Whatever a test started in a state folder of ours, stopped by the end of the session."""
    yield
    while _STATE_DIRS:
        remove_state_dir(_STATE_DIRS.pop())


def available_engines() -> list[str]:
    import shutil

    return ["embedded"] + [name for name in ("terraform", "tofu") if shutil.which(name)]


APP_STACK = """
terraform {
  backend "s3" {}
}

variable "environment" { type = string }
variable "greeting" { type = string }
variable "run_id" {
  type    = string
  default = "1"
}
variable "sleep_seconds" {
  type    = number
  default = 0
}
variable "api_token" {
  type      = string
  sensitive = true
}
variable "db_host" { type = string }
variable "db_port" { type = number }
variable "db_name" { type = string }
variable "db_username" { type = string }
variable "db_password_file" { type = string }
variable "expires_at" {
  type    = string
  default = null
}

resource "terraform_data" "app" {
  input = "${var.environment}-${var.greeting}"
}

resource "terraform_data" "slow" {
  input            = var.run_id
  triggers_replace = var.run_id
  provisioner "local-exec" {
    command = "sleep ${var.sleep_seconds}"
  }
}

output "greeting" { value = terraform_data.app.output }
output "expires_at" { value = var.expires_at }
output "token_digest" {
  value     = sha256(var.api_token)
  sensitive = true
}
output "database" {
  value = {
    engine              = "postgres"
    host                = var.db_host
    port                = var.db_port
    name                = var.db_name
    username            = var.db_username
    password_secret_arn = null
    password_file       = var.db_password_file
  }
}
"""


def write_s3_project(
    root: Path, *, endpoint: str, bucket: str, database, secret: str = "tok-secret-0451", lock_timeout: str = "20s"
) -> Path:
    """A provider-free stack on the S3 backend (moto), with dev, prod (protected) and pr-<n> ephemerals."""
    import json

    (root / "stack").mkdir(parents=True)
    (root / "stack" / "main.tf").write_text(APP_STACK)
    (root / "sql").mkdir()
    (root / "sql" / "V1__t.sql").write_text("CREATE TABLE IF NOT EXISTS t (id int);\n")
    (root / "tfvars").mkdir()
    password_file = root / "db-password"
    password_file.write_text(database.password)
    common = {
        "api_token": secret,
        "db_host": database.host,
        "db_port": database.port,
        "db_name": database.name,
        "db_username": database.username,
        "db_password_file": str(password_file),
    }
    (root / "tfvars" / "common.tfvars.json").write_text(json.dumps(common))
    for env in ("dev", "prod", "ephemeral"):
        (root / "tfvars" / f"{env}.tfvars.json").write_text(json.dumps({"greeting": f"hello-{env}"}))
    backend = f'{{ type = "s3", bucket = "{bucket}", region = "us-east-1", endpoint = "{endpoint}" }}'
    text = f"""stacks = ["infra"]
[terraform]
engine = "embedded"
lock_timeout = "{lock_timeout}"
[environments.dev]
stacks = {{ infra = "stack" }}
backend = {backend}
var_files = ["common.tfvars.json", "dev.tfvars.json"]
[environments.prod]
stacks = {{ infra = "stack" }}
backend = {backend}
var_files = ["common.tfvars.json", "prod.tfvars.json"]
protected = true
[ephemeral]
patterns = ["pr-<n>", "eph-<slug>"]
ttl = "2h"
stacks = {{ infra = "stack" }}
backend = {backend}
var_files = ["common.tfvars.json", "ephemeral.tfvars.json"]
"""
    (root / "toolkit.toml").write_text(text)
    return root


@pytest.fixture
def s3_project(tmp_path, moto_endpoint, database):
    from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket

    bucket = f"state-{uuid.uuid4().hex[:10]}"
    bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint)
    return write_s3_project(tmp_path / "s3project", endpoint=moto_endpoint, bucket=bucket, database=database)
