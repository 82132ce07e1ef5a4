"""What looks like a secret: by its name, or by its value. Pipelines and values files hold none.

Rules (each documented in docs/pipelines.md, "Secrets never go in values"):

- a name (a placeholder's last part, or a key anywhere inside an object value a placeholder takes)
  ending like a secret: `password`, `passwd`, `secret`, `token`, `api_key`, `private_key`,
  `secret_access_key`, `credential(s)`;
- a value holding a private key block, an AWS access key id, a URL with a password, a JWT, a Slack
  webhook URL, a well-known token prefix (GitHub, GitLab, Slack);
- an AWS secret access key: a standalone run of exactly 40 characters of `A-Za-z0-9/+`. Next to a
  telling name (one containing `secret`, or `aws` and `key`) that shape is enough. Without one, the
  run must also look random, because 40-character identifiers and paths exist: upper and lower case
  letters and digits, not all hex (a git commit id), and the character class changing at least 16
  times in the 39 steps (random keys: 25 on average, under 16 for about 0.2% of them; CamelCase names
  and paths of words: 12 to 15).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from toolkit.support.masking import AWS_SECRET as _AWS_SECRET
from toolkit.support.masking import SECRET_PATTERNS as _PATTERNS
from toolkit.support.masking import looks_random as _looks_random

SECRET_NAME = re.compile(
    r"(password|passwd|secret|token|api_?key|private_?key|secret_?access_?key|credentials?)$", re.IGNORECASE
)
_TELLING = re.compile(r"secret|aws.*key", re.IGNORECASE)


def name_reason(name: str) -> str | None:
    if SECRET_NAME.search(name.rsplit(".", 1)[-1]):
        return f"its name {name!r} says it is a secret"
    return None


def value_reason(value: Any, name: str = "") -> str | None:
    """Why a value (searched inside objects and arrays) looks like a secret, whatever it is called."""
    for key, text in _strings(value, name):
        for pattern, what in _PATTERNS:
            if pattern.search(text):
                return f"its value{_at(key, name)} looks like {what}"
        for match in _AWS_SECRET.finditer(text):
            if _TELLING.search(key) or _looks_random(match.group()):
                return f"its value{_at(key, name)} looks like an AWS secret access key"
    return None


def reason(name: str, value: Any) -> str | None:
    """Name first, then keys inside an object value, then the value itself."""
    return name_reason(name) or _key_reason(value, name) or value_reason(value, name)


def _key_reason(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if SECRET_NAME.search(str(key)) and item not in (None, "", True, False):
                return f"its key {inner!r} says it holds a secret"
            if found := _key_reason(item, inner):
                return found
    elif isinstance(value, list):
        for item in value:
            if found := _key_reason(item, path):
                return found
    return None


def _strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """(the nearest key, text) for every string in a value."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner, item in value.items():
            yield from _strings(item, str(inner))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def _at(key: str, name: str) -> str:
    return f" (at {key!r})" if key and key != name else ""
