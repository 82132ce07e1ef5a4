"""Test projects written into temporary folders, and what the tests need to find and run them.

Plain helpers, imported by tests and fixtures (`tests/conftest.py` holds the fixtures themselves).
"""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("local", "dev", "qa")  # of write_pipelines_project


def free_port() -> int:
    """A loopback port free now. Under pytest-xdist each worker takes only ports of its own residue
    ((port // 2) % workers == its number; halved, as Linux hands bind(0) odd ports only): a port one worker
    has just released for a server to bind cannot be handed to a test on another worker in between."""
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    own = int(worker) % workers if worker.isdigit() else 0
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if (port // 2) % workers == own:
            return port
    raise RuntimeError(f"no free loopback port of residue {own} modulo {workers}")


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
    sql_from: Path | None = REPO / "sql" / "orders",
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


def write_two_database_project(root: Path, *, port: int, state_dir: Path | None = None) -> Path:
    """The local project with the reference project's two databases: `orders` (sql/orders/) then
    `analytics` (sql/analytics/), each a [databases.<name>] table, both on the one embedded server."""
    import json
    import shutil

    write_local_project(root, port=port, sql_from=None, state_dir=state_dir)
    (root / "sql").rmdir()
    shutil.copytree(REPO / "sql", root / "sql")
    values = root / "tfvars" / "local.tfvars.json"
    data = json.loads(values.read_text())
    data.update(warehouse_db_name="warehouse", warehouse_db_password_file=".toolkit/local/postgres/warehouse-password")
    values.write_text(json.dumps(data))
    config = (root / "toolkit.toml").read_text()
    (root / "toolkit.toml").write_text(
        config
        + '\n[databases.orders]\nengine = "postgres"\n'
        + '\n[databases.analytics]\nengine = "postgres"\nlock_timeout_seconds = 2\n'
    )
    return root


def write_one_stack_project(root: Path, *, name: str, stack: str, state_dir: Path, terraform: str = "") -> Path:
    """A project with one provider-free stack (`stack` is its main.tf), no SQL, no var files and only the
    local environment: for tests about what Terraform itself does or prints. `terraform` adds lines to
    the [terraform] table."""
    (root / "stack").mkdir(parents=True)
    (root / "stack" / "main.tf").write_text(stack)
    (root / "sql").mkdir()
    (root / "tfvars").mkdir()
    (root / "toolkit.toml").write_text(
        f'stacks = ["infra"]\n[project]\nname = "{name}"\nstate_dir = "{state_dir}"\n'
        f'[terraform]\nengine = "embedded"\n{terraform}'
        '[environments.local]\nstacks = { infra = "stack" }\nbackend = { type = "local" }\n'
        "var_files = []\ncreate_workspace = true\n"
    )
    return root


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


def remove_every_state_dir() -> None:
    """Every state folder `new_state_dir` made, its servers stopped and removed."""
    while _STATE_DIRS:
        remove_state_dir(_STATE_DIRS.pop())


def write_pipelines_project(root: Path, *, drop_from: str | None = None, key: str = "db_name") -> Path:
    """The local project with its pipelines, plus dev and qa on the local stack (no Terraform provider, no
    AWS); `drop_from` loses one tfvars key there."""
    import json
    import shutil

    write_local_project(root, port=free_port())
    shutil.copytree(REPO / "pipelines", root / "pipelines")
    base = json.loads((root / "tfvars" / "local.tfvars.json").read_text())
    config = (root / "toolkit.toml").read_text()
    for env in ENVIRONMENTS[1:]:
        values = dict(base, db_port=free_port())
        (root / "tfvars" / f"{env}.tfvars.json").write_text(json.dumps(values, indent=2))
        config += (
            f'\n[environments.{env}]\nstacks = {{ infra = "terraform/local/infra" }}\n'
            f'backend = {{ type = "local" }}\nvar_files = ["{env}.tfvars.json"]\n'
            'database = "embedded"\ncreate_workspace = true\n'
        )
    (root / "toolkit.toml").write_text(config)
    if drop_from:
        path = root / "tfvars" / f"{drop_from}.tfvars.json"
        values = json.loads(path.read_text())
        del values[key]
        path.write_text(json.dumps(values, indent=2))
    return root


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


def connect_local(project: Path):
    """An autocommit connection to the local database of a `write_local_project` project that is up, as
    its login role (the password from the file toolkit made)."""
    import json

    import psycopg2

    password = (project / ".toolkit/local/postgres/password").read_text().strip()
    port = json.loads((project / "tfvars/local.tfvars.json").read_text())["db_port"]
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="demo", user="demo_app", password=password)
    conn.autocommit = True
    return conn
