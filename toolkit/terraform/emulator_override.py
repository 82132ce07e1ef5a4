"""Emulator mode for Terraform: an override file that points a stack's AWS provider at a local endpoint.

The override exists only while Terraform runs, one run per stack directory at a time; any AWS stack run
first removes one a killed run left behind.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.adapters.aws.emulator import emulator_account_id
from toolkit.errors import GuardRefused
from toolkit.support.log import get_logger

log = get_logger(__name__)

OVERRIDE_NAME = "zz_toolkit_emulator_override.tf"  # *_override.tf: merged into the stack by Terraform
LOCK_NAME = ".terraform/toolkit-emulator.lock"
# Every service the AWS stacks call (the provider's names for them in an `endpoints` block).
_SERVICES = (
    "s3",
    "rds",
    "secretsmanager",
    "kinesis",
    "firehose",
    "glue",
    "sfn",
    "datapipeline",
    "iam",
    "sts",
    "logs",
    "kms",
    "ec2",
)


def override_content(endpoint: str, account_id: str) -> str:
    """A provider override: in an override file each argument replaces the stack's own and a nested
    block replaces blocks of its type, so `allowed_account_ids` (from the var files: real accounts) becomes
    the emulator's account, `endpoints` points every service the stacks use at the emulator, and the rest
    of the stack's provider block (region, default_tags) stays. The account id is requested, not skipped:
    with `skip_requesting_account_id` the provider checks an empty id against the list and refuses."""
    width = max(map(len, _SERVICES))  # aligned as `terraform fmt` writes it
    endpoints = "\n".join(f'    {service:<{width}} = "{endpoint}"' for service in _SERVICES)
    return (
        "# Written by toolkit for emulator mode (--endpoint) while Terraform runs; git-ignored, never commit.\n"
        'provider "aws" {\n'
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        f'  allowed_account_ids         = ["{account_id}"]\n'
        "  max_retries                 = 2\n"
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  s3_use_path_style           = true\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
    )


def uses_aws_provider(stack_dir: Path) -> bool:
    pattern = re.compile(r'source\s*=\s*"(registry\.terraform\.io/)?hashicorp/aws"')
    return any(pattern.search(p.read_text(errors="replace")) for p in stack_dir.glob("*.tf") if p.name != OVERRIDE_NAME)


@contextmanager
def _stack_lock(stack_dir: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Terraform reads every *_override.tf in the directory, so the override belongs to one run at a time:
    an emulator run holds the directory exclusively, other runs of the same directory hold it shared (none
    of them may see another run's override). The lock file is under .terraform/, which git and the plan
    bundle's hash of the stack directory both ignore."""
    import fcntl

    path = stack_dir / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise GuardRefused(
                        f"another toolkit run has held {stack_dir} for {timeout:.0f}s "
                        + ("(a run against another endpoint or a real account)" if exclusive else "(emulator mode)"),
                        hint=f"wait for it to finish; if no toolkit process is running, delete {path}",
                    ) from None
                if not waiting:
                    log.info("waiting for another toolkit run in %s to finish its Terraform command", stack_dir)
                    waiting = True
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def provider_override(
    stack_dir: Path, endpoint: str | None, *, account_id: str | None = None, lock_timeout: float = 1800.0
) -> Iterator[None]:
    """While the block runs, an override file points the stack's AWS provider at the endpoint.

    Any AWS stack run first removes an override a killed run left behind: without --endpoint, a stale one
    would point a real run at an emulator with dummy keys."""
    if not uses_aws_provider(stack_dir):
        yield
        return
    path = stack_dir / OVERRIDE_NAME
    if endpoint:
        account_id = account_id or emulator_account_id(endpoint)
    with _stack_lock(stack_dir, exclusive=bool(endpoint), timeout=lock_timeout):
        if path.exists():
            log.warning("removing %s, left behind by an emulator-mode run that did not finish", path)
            path.unlink(missing_ok=True)
        if not endpoint:
            yield
            return
        path.write_text(override_content(endpoint, account_id or ""))
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
