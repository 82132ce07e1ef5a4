"""How a CI runner stops toolkit: SIGTERM alone, and GitHub Actions' cancel (SIGINT, then SIGTERM while
Terraform is still stopping). Either way Terraform is asked to stop once, releases the S3 lock, and
toolkit exits 130."""

from __future__ import annotations

import signal
import time

import pytest

from tests.running import Bucket, invoke, run_cli, set_run, wait_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGTERM,), (signal.SIGINT, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM, signal.SIGINT)],
    ids=["sigterm", "github-cancel", "three-signals"],
)
def test_signals_during_apply_stop_terraform_once_and_release_the_lock(s3_project, moto_endpoint, signals):
    bucket = Bucket(s3_project, moto_endpoint)
    set_run(s3_project, 0, "first")
    assert invoke(s3_project, "env", "up", "pr-11").exit_code == 0
    set_run(s3_project, 30, "interrupted")
    proc = run_cli(s3_project, "env", "up", "pr-11")
    wait_for(proc, "Provisioning with 'local-exec'")
    assert bucket.locks() == ["env:/pr-11/infra.tfstate.tflock"]
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.05)  # while Terraform is still stopping
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "Two interrupts received" not in output and "Traceback" not in output
    assert bucket.locks() == [], output
    set_run(s3_project, 0, "after")
    again = invoke(s3_project, "env", "up", "pr-11")
    assert again.exit_code == 0, again.output  # no force-unlock needed
