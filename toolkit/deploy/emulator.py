"""Emulator mode (`--endpoint`): every AWS call of this run goes to a local endpoint, never to a real account.

Refuses to start while real credentials or profiles are around, so a typo in an endpoint can never send
an emulator-shaped run to a real account; then gives this process (and its children) dummy credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from toolkit.errors import GuardRefused

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
_REAL_KEY = re.compile(r"^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}$")


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
