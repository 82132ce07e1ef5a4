"""`toolkit doctor`: which engine and version, whether PostgreSQL and AWS credentials are reachable."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from toolkit.adapters.aws.clients import client
from toolkit.adapters.postgres.server import bin_dir
from toolkit.deploy.context import Context
from toolkit.deploy.database import connect_database, database_target
from toolkit.errors import ToolkitError
from toolkit.terraform.engine import resolve_engine, supported_version


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.name != "aws credentials")


def doctor(
    ctx: Context | None,
    *,
    engine_choice: str | None = None,
    endpoint: str | None = None,
    env: str | None = None,
    project_problem: str | None = None,
) -> DoctorReport:
    """The project's toolkit.toml, the engine, the embedded PostgreSQL and AWS credentials; with `env`, that
    environment's database. Works outside a project too (`ctx` None, no `project_problem`): the engine is
    then auto-detected. `project_problem` is why a toolkit.toml that was found could not be loaded."""
    configured = ctx.project.terraform.engine if ctx is not None else "auto"
    if project_problem is not None:
        project = Check("toolkit.toml", False, project_problem)
    elif ctx is not None:
        project = Check("toolkit.toml", True, str(ctx.project.config_path))
    else:
        project = Check("toolkit.toml", True, "none here (doctor works outside a project too)")
    checks = [project, _engine(engine_choice, configured), _postgres(), _aws(endpoint)]
    if env is not None and ctx is not None:
        several = len(ctx.project.databases) > 1
        checks += [
            _environment_database(ctx.for_database(db), env, f"database {db.name} ({env})" if several else None)
            for db in ctx.project.databases
        ]
    return DoctorReport(tuple(checks))


def _environment_database(ctx: Context, name: str, label: str | None = None) -> Check:
    """Can the context's database be reached with what its outputs say? (one attempt, no retries)"""
    label = label or f"database ({name})"
    try:
        target = database_target(ctx, ctx.project.environment(name))
        conn = connect_database(target, attempts=1)
    except ToolkitError as exc:
        return Check(label, False, exc.message)
    try:
        if target.engine == "mysql":
            server = conn.get_server_info().removeprefix("5.5.5-")  # MariaDB's replication-era prefix
            return Check(label, True, f"{target.url}, MySQL {server}")
        return Check(label, True, f"{target.url}, PostgreSQL {conn.server_version // 10000}")
    finally:
        conn.close()


def _engine(choice: str | None, configured: str) -> Check:
    try:
        engine = resolve_engine(choice, configured=configured)
        return Check("terraform engine", True, f"{engine.describe()}, Terraform {supported_version(engine)}")
    except ToolkitError as exc:
        return Check("terraform engine", False, str(exc))


def _postgres() -> Check:
    try:
        out = subprocess.run(
            [str(bin_dir() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        return Check("embedded postgresql", True, out)
    except (ToolkitError, OSError, subprocess.SubprocessError) as exc:
        return Check("embedded postgresql", False, f"not usable: {exc}")


def _aws(endpoint: str | None) -> Check:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

    except ImportError as exc:  # pragma: no cover
        return Check("aws credentials", False, f"boto3 missing: {exc}")
    if boto3.Session().get_credentials() is None:
        return Check("aws credentials", False, "none configured (fine for the local environment)")
    try:
        identity = client("sts", endpoint=endpoint).get_caller_identity()
        return Check("aws credentials", True, f"account {identity['Account']} as {identity['Arn']}")
    except (BotoCoreError, ClientError) as exc:
        return Check("aws credentials", False, f"configured but not usable: {exc}")
