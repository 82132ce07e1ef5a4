"""`toolkit doctor`: which engine and version, whether PostgreSQL and AWS credentials are reachable."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

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
    engine_choice: str | None = None, configured_engine: str = "auto", endpoint: str | None = None
) -> DoctorReport:
    return DoctorReport((_engine(engine_choice, configured_engine), _postgres(), _aws(endpoint)))


def environment_database(ctx, name: str) -> Check:
    """Can the environment's database be reached with what its outputs say? (one attempt, no retries)"""
    from toolkit.commands.targets import database_target
    from toolkit.database.connection import connect

    label = f"database ({name})"
    try:
        target = database_target(ctx, ctx.project.environment(name))
        conn = connect(target, attempts=1)
    except ToolkitError as exc:
        return Check(label, False, exc.message)
    try:
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
        from toolkit.database.embedded import _bin_dir

        out = subprocess.run(
            [str(_bin_dir() / "postgres"), "--version"],
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

        from toolkit.aws.clients import client
    except ImportError as exc:  # pragma: no cover
        return Check("aws credentials", False, f"boto3 missing: {exc}")
    if boto3.Session().get_credentials() is None:
        return Check("aws credentials", False, "none configured (fine for the local environment)")
    try:
        identity = client("sts", endpoint=endpoint).get_caller_identity()
        return Check("aws credentials", True, f"account {identity['Account']} as {identity['Arn']}")
    except (BotoCoreError, ClientError) as exc:
        return Check("aws credentials", False, f"configured but not usable: {exc}")
