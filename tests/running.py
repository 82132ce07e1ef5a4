"""Running toolkit as its users do: in-process through the CLI (`invoke`), or as a child process whose
output a test reads line by line (`run_cli`, `wait_for`); and reading an S3 state bucket on moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import boto3
from typer.testing import CliRunner

from toolkit.cli import app


def invoke(project: Path, *args: str, env: dict[str, str] | None = None):
    """`toolkit -C PROJECT --plain ARGS` in-process. Whatever the outcome, never a traceback or a bug."""
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", *args], env=env)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def run_cli(project: Path, *args: str, **popen) -> subprocess.Popen:
    """`python -m toolkit -C PROJECT --plain -v ARGS` as a child process, stdout and stderr together."""
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CI": "true"},
        **popen,
    )


def wait_for(proc: subprocess.Popen, marker: str, timeout: float = 90) -> str:
    """The child's output up to the first line holding `marker`; fails with everything seen otherwise."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not seen:\n{''.join(seen)}")


def set_run(project: Path, seconds: int, run_id: str) -> None:
    """The next apply of an S3 test project replaces `terraform_data.slow`, whose provisioner sleeps
    `seconds` (tests/projects.py:APP_STACK)."""
    (project / "tfvars" / "ephemeral.tfvars.json").write_text(
        json.dumps({"greeting": "hello-ephemeral", "sleep_seconds": seconds, "run_id": run_id})
    )


class Bucket:
    """The state bucket of an S3 test project, read directly."""

    def __init__(self, project: Path, endpoint: str) -> None:
        self.name = tomllib.loads((project / "toolkit.toml").read_text())["environments"]["dev"]["backend"]["bucket"]
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def locks(self) -> list[str]:
        return [key for key in self.keys() if key.endswith(".tflock")]

    def state(self, env: str) -> dict:
        return json.loads(self.s3.get_object(Bucket=self.name, Key=f"env:/{env}/infra.tfstate")["Body"].read())

    def outputs(self, env: str) -> dict:
        return {k: v["value"] for k, v in self.state(env)["outputs"].items()}
