"""The duration syntaxes toolkit.toml uses: Terraform's (`30s`, `5m`) and the ephemeral TTL's (`72h`, `7d`)."""

from __future__ import annotations

import re

TERRAFORM_DURATION = re.compile(r"(\d+)(ms|s|m|h)")


def terraform_duration_seconds(text: str) -> float:
    """'500ms', '30s', '5m', '1h' (Terraform's own duration syntax, as -lock-timeout takes) → seconds."""
    match = TERRAFORM_DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration")
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match[2]]


def parse_duration(text: object, fail) -> int:
    """'90m', '72h', '7d' → seconds."""
    match = re.fullmatch(r"(\d+)([mhd])", text) if isinstance(text, str) else None
    if not match or int(match[1]) == 0:
        raise fail(f"{text!r} is not a duration; write it as 90m, 72h or 7d")
    return int(match[1]) * {"m": 60, "h": 3600, "d": 86400}[match[2]]
