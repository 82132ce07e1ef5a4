"""AWS emulator mode (`--endpoint`): point the AWS provider, the S3 backend and boto3 at a local endpoint.

Refuses to start while real credentials or profiles are around, so a typo in an endpoint can never send
an emulator-shaped run to a real account. The provider override file exists only while Terraform runs,
one run per stack directory at a time.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import GuardRefused, ToolkitError

log = logging.getLogger(__name__)

OVERRIDE_NAME = "zz_toolkit_emulator_override.tf"  # *_override.tf: merged into the stack by Terraform
LOCK_NAME = ".terraform/toolkit-emulator.lock"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
_REAL_KEY = re.compile(r"^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}$")
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
_ACCOUNT_IDS: dict[str, str] = {}


def real_credential_sources(environ: Mapping[str, str], home: Path) -> list[str]:
    found = []
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        if environ.get(name):
            found.append(f"${name}")
    if _REAL_KEY.match(environ.get("AWS_ACCESS_KEY_ID", "")):
        found.append("$AWS_ACCESS_KEY_ID (a real access key id)")
    for name in ("credentials", "config"):
        path = home / ".aws" / name
        if path.is_file() and "[" in path.read_text(errors="replace"):
            found.append(str(path))
    return found


def enter_emulator_mode(endpoint: str, environ: dict[str, str] | None = None, home: Path | None = None) -> None:
    """Check for real credentials, then give this process (and its children) dummy ones."""
    environ = os.environ if environ is None else environ
    if not re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/?$", endpoint):
        raise GuardRefused(
            f"--endpoint {endpoint} is not a loopback address",
            hint="emulator mode is for a local AWS emulator, e.g. http://127.0.0.1:5000",
        )
    sources = real_credential_sources(environ, home or Path.home())
    if sources:
        raise GuardRefused(
            "refusing emulator mode while real AWS credentials are configured: " + ", ".join(sources),
            hint="unset them (or run in a clean shell) so nothing can reach a real account",
        )
    environ.update(DUMMY_CREDENTIALS)
    environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    environ["AWS_EC2_METADATA_DISABLED"] = "true"


def emulator_account_id(endpoint: str) -> str:
    """The account id the emulator answers STS GetCallerIdentity with (moto: 123456789012 unless
    MOTO_ACCOUNT_ID says otherwise; LocalStack: 000000000000). Asked once per endpoint and process."""
    if endpoint not in _ACCOUNT_IDS:
        from botocore.exceptions import BotoCoreError, ClientError

        from toolkit.aws.clients import client

        try:
            _ACCOUNT_IDS[endpoint] = client("sts", endpoint=endpoint).get_caller_identity()["Account"]
        except (BotoCoreError, ClientError, KeyError) as exc:
            raise ToolkitError(
                f"the AWS emulator at {endpoint} did not answer STS GetCallerIdentity: {exc}",
                hint="start the emulator first (e.g. `python -m moto.server -p 5000`); the AWS stacks "
                "read the account id, and the provider allows only the emulator's",
            ) from None
    return _ACCOUNT_IDS[endpoint]


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
