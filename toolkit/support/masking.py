"""Keep secrets out of every output: a registry of known secret strings and a masking function.

Sensitive values are registered as soon as they are read (a password from a file or Secrets Manager,
a sensitive Terraform output); every printer and log handler passes text through `mask()`.
"""

from __future__ import annotations

import re
import threading

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<password>[^@\s]+)(?P<at>@)")


def register(value: object) -> None:
    """Remember a secret so that `mask()` hides it wherever it appears. Short values are ignored."""
    if isinstance(value, str) and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def mask(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\g<scheme>{MASK}\g<at>", text)


def forget_all() -> None:
    """For tests: start from an empty registry."""
    with _lock:
        _secrets.clear()
