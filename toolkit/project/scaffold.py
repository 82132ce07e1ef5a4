"""The files of a new project (`toolkit init`): a minimal toolkit.toml, a provider-free local stack that
publishes the `database` output contract, a var file, the sql/, pipelines/ and tfvars/ folders, and a
Makefile snippet. Pure: text by relative path; writing them (never over anything) is the verb's job."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

from toolkit.project.flyway_config import FlywaySettings

LOCAL_STACK = "terraform/local/infra"
PORT_BASE, PORT_SPAN = 54330, 2000  # the local database's port, chosen per checkout from this range

_MAIN_TF = """\
# The local environment: provider-free, so it runs with no network and no cloud account. toolkit
# realises the database it describes with an embedded PostgreSQL server on 127.0.0.1.

terraform {
  required_version = ">= 1.11"
  backend "local" {}
}

resource "terraform_data" "database" {
  input = {
    engine   = "postgres"
    host     = "127.0.0.1"
    port     = var.db_port
    name     = var.db_name
    username = var.db_username
  }
}
"""

_OUTPUTS_TF = """\
# The output contract every environment's first stack publishes (README, "Output contract").

output "database" {
  description = "Where the environment's PostgreSQL is and where its password lives (never the password)."
  value = {
    engine              = terraform_data.database.output.engine
    host                = terraform_data.database.output.host
    port                = terraform_data.database.output.port
    name                = terraform_data.database.output.name
    username            = terraform_data.database.output.username
    password_secret_arn = null
    password_file       = var.db_password_file
  }
}
"""

_VARIABLES_TF = """\
variable "environment" {
  description = "Environment name; injected by toolkit, never set in a var file."
  type        = string
}

variable "project" {
  description = "Short project name used as a prefix for every resource name."
  type        = string
}

variable "db_port" {
  description = "TCP port of the local PostgreSQL server on 127.0.0.1 (chosen per checkout by toolkit init)."
  type        = number
}

variable "db_name" {
  description = "Database the migrations run in."
  type        = string
}

variable "db_username" {
  description = "Login role that owns the database."
  type        = string
}

variable "db_password_file" {
  description = "Where the local password lives, relative to the project root (created by toolkit, mode 0600)."
  type        = string
}
"""

_MAKEFILE = """\
# toolkit's targets; add `include toolkit.mk` to your Makefile. CI jobs call `toolkit` directly: make turns
# every failure into its own exit code 2, which toolkit keeps for "changes pending" (README, "Exit codes").
ENV ?= local
TOOLKIT ?= toolkit

.PHONY: env plan destroy status
env:
\t$(TOOLKIT) env up $(ENV)
plan:
\t$(TOOLKIT) plan $(ENV)
destroy:
\t$(TOOLKIT) env down $(ENV)
status:
\t$(TOOLKIT) env status $(ENV)
"""


def checkout_port(root: Path) -> int:
    """The local database's port for this checkout: stable for its path, different for another checkout
    (two clones on one machine must not both take one port)."""
    return PORT_BASE + zlib.crc32(str(root.resolve()).encode()) % PORT_SPAN


def identifier(name: str) -> str:
    """A project name as a PostgreSQL name: lower case, letters, digits and `_`, starting with a letter."""
    text = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return (text if text[:1].isalpha() else f"p_{text}")[:40] or "project"


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or list is a TOML one too


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml(name)


def toolkit_toml(name: str, sql: str, flyway: FlywaySettings | None) -> str:
    migrations = ['history_table = "flyway_schema_history"', 'schema = "public"']
    if flyway is not None:
        migrations = [f"history_table = {_toml(flyway.history_table)}", f"schema = {_toml(flyway.schema)}"]
        if flyway.engine != "postgres":
            migrations.insert(0, f"engine = {_toml(flyway.engine)}")
        if flyway.out_of_order:
            migrations.append("out_of_order = true")
        if not flyway.placeholder_replacement:
            migrations.append("placeholder_replacement = false")
        migrations.append(
            f"validate_migration_naming = {str(flyway.validate_migration_naming).lower()}"
            + ("" if flyway.validate_migration_naming else "  # as Flyway: skip files whose names do not parse")
        )
        if flyway.placeholders:
            migrations.append("\n[migrations.placeholders]   # below the environment's values (tfvars, outputs)")
            migrations += [f"{_key(key)} = {_toml(value)}" for key, value in sorted(flyway.placeholders.items())]
    source = (
        "\n# [migrations] taken over from Flyway's configuration by `toolkit init --from-flyway`." if flyway else ""
    )
    return f"""# toolkit's configuration. Paths are relative to this file; see toolkit's README, "Configuration".

# Stacks apply in this order and are destroyed in reverse. The first one publishes the `database`
# output the migrations connect with.
stacks = ["infra"]

[project]
name = {_toml(name)}
sql = {_toml(sql)}
pipelines = "pipelines"
tfvars = "tfvars"
state_dir = ".toolkit"   # git-ignored: Terraform data dirs, local state, the local database
{source}
[migrations]
{chr(10).join(migrations)}

[environments.local]
stacks = {{ infra = "{LOCAL_STACK}" }}
backend = {{ type = "local" }}
var_files = ["local.tfvars.json"]
database = "embedded"    # toolkit runs the PostgreSQL the outputs describe
create_workspace = true
"""


def scaffold(name: str, port: int, flyway: FlywaySettings | None = None) -> dict[str, str]:
    """Every file of a new project, by path relative to its root (a folder's `.gitkeep` keeps it in git)."""
    sql = flyway.sql if flyway is not None else "sql"
    database = identifier(name)
    values = {
        "project": name,
        "db_port": port,
        "db_name": database,
        "db_username": f"{database}_app",
        "db_password_file": ".toolkit/local/postgres/password",
    }
    files = {
        "toolkit.toml": toolkit_toml(name, sql, flyway),
        f"{LOCAL_STACK}/main.tf": _MAIN_TF,
        f"{LOCAL_STACK}/outputs.tf": _OUTPUTS_TF,
        f"{LOCAL_STACK}/variables.tf": _VARIABLES_TF,
        "tfvars/local.tfvars.json": json.dumps(values, indent=2) + "\n",
        "pipelines/.gitkeep": "",
        "toolkit.mk": _MAKEFILE,
    }
    if flyway is None:
        files["sql/.gitkeep"] = ""
    return files
