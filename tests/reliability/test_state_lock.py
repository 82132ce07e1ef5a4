"""The S3 state lock under interruption and contention, repeated: SIGINT in the middle of an apply
releases the lock (no force-unlock next time), and two applies at once either queue or one fails
naming the holder; the state stays intact and no lock object is left in the bucket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from toolkit.cli import app

pytestmark = pytest.mark.slow

SIGINT_REPEATS = 20
CONTENTION_REPEATS = 8  # half with a short lock_timeout (one fails), half with a long one (they queue)


def invoke(project: Path, *args: str):
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", *args])
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def run_cli(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CI": "true"},
    )


def wait_for(proc: subprocess.Popen, marker: str, timeout: float = 90) -> str:
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
    """The next apply replaces `terraform_data.slow`, whose provisioner sleeps `seconds`."""
    (project / "tfvars" / "ephemeral.tfvars.json").write_text(
        json.dumps({"greeting": "hello-ephemeral", "sleep_seconds": seconds, "run_id": run_id})
    )


def set_lock_timeout(project: Path, value: str) -> None:
    config = project / "toolkit.toml"
    text = config.read_text()
    start = text.index("lock_timeout = ")
    end = text.index("\n", start)
    config.write_text(text[:start] + f'lock_timeout = "{value}"' + text[end:])


class Bucket:
    def __init__(self, project: Path, endpoint: str) -> None:
        import tomllib

        self.name = tomllib.loads((project / "toolkit.toml").read_text())["environments"]["dev"]["backend"]["bucket"]
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def locks(self) -> list[str]:
        return [key for key in self.keys() if key.endswith(".tflock")]

    def state(self, env: str) -> dict:
        return json.loads(self.s3.get_object(Bucket=self.name, Key=f"env:/{env}/infra.tfstate")["Body"].read())


def resource_input(state: dict, name: str) -> object:
    resource = next(r for r in state["resources"] if r["name"] == name)
    return resource["instances"][0]["attributes"]["input"]["value"]


def test_sigint_during_apply_always_releases_the_lock(s3_project, moto_endpoint, record_figure):
    bucket = Bucket(s3_project, moto_endpoint)
    assert invoke(s3_project, "env", "up", "pr-6").exit_code == 0
    interrupted = clean = 0
    try:
        for round_ in range(SIGINT_REPEATS):
            set_run(s3_project, 30, f"int-{round_}")
            proc = run_cli(s3_project, "env", "up", "pr-6")
            wait_for(proc, "Provisioning with 'local-exec'")
            assert bucket.locks() == ["env:/pr-6/infra.tfstate.tflock"]  # held while applying
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=60)
            assert proc.returncode == 130, output
            assert "interrupted" in output and "Traceback" not in output
            interrupted += 1
            assert bucket.locks() == [], f"round {round_}: lock left behind"
            clean += 1
        set_run(s3_project, 0, "after")
        again = invoke(s3_project, "env", "up", "pr-6")
        assert again.exit_code == 0, again.output  # no force-unlock needed
        assert resource_input(bucket.state("pr-6"), "slow") == "after"
        assert bucket.locks() == []
    finally:
        record_figure(
            "sigint",
            f"{interrupted} applies interrupted with SIGINT on the S3 backend, exit 130 each, "
            f"lock released {clean}/{interrupted}, next apply needed no force-unlock",
        )


def test_two_concurrent_applies_queue_or_fail_clearly_and_keep_the_state(s3_project, moto_endpoint, record_figure):
    bucket = Bucket(s3_project, moto_endpoint)
    assert invoke(s3_project, "env", "up", "pr-5").exit_code == 0
    refused = queued = 0
    try:
        for round_ in range(CONTENTION_REPEATS):
            short = round_ % 2 == 0
            set_lock_timeout(s3_project, "1s" if short else "60s")
            set_run(s3_project, 3, f"race-{round_}")
            serial = bucket.state("pr-5")["serial"]
            first = run_cli(s3_project, "env", "up", "pr-5")
            wait_for(first, "Provisioning with 'local-exec'")
            second = invoke(s3_project, "env", "up", "pr-5")
            first_output, _ = first.communicate(timeout=120)
            assert first.returncode == 0, first_output
            if short:
                assert second.exit_code == 1, second.output
                assert "the state of stack 'infra' (environment 'pr-5') is locked by" in second.output
                assert "toolkit env force-unlock pr-5 --stack infra " in second.output
                refused += 1
            else:
                assert second.exit_code == 0, second.output  # waited for the lock, then nothing to change
                queued += 1
            state = bucket.state("pr-5")
            assert state["serial"] > serial and resource_input(state, "slow") == f"race-{round_}"
            assert state["outputs"]["greeting"]["value"] == "pr-5-hello-ephemeral"
            assert bucket.locks() == []
    finally:
        record_figure(
            "contention",
            f"{refused + queued} pairs of concurrent applies: {refused} refused naming the lock holder (exit 1), "
            f"{queued} queued and succeeded; state intact and no lock object left every time",
        )
