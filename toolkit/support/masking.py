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


# What looks like a secret by its value (the rules of pipelines/secretlike.py, which uses these).
SECRET_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"[a-z][a-z0-9+.-]*://[^:/@\s]+:[^@\s]+@"), "a URL with a password"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "a JSON Web Token"),
    (
        re.compile(r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"),
        "a Slack webhook URL",
    ),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|github_pat|glpat|xox[abposr])[-_][A-Za-z0-9_-]{10,}"), "an access token"),
]
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_HEX = re.compile(r"\A[0-9a-fA-F]+\Z")
# a quoted literal right after a word that says it is a secret: PASSWORD 'x', api_token = 'x'
_NAMED_LITERAL = re.compile(
    r"(?i)((?:password|passwd|secret|token|api_?key|private_?key|credentials?)\w*['\"]?\s*(?:[=:,]|=>)?\s*)'[^']*'"
)
_SECRETLIKE_TOKEN = re.compile(r"[A-Za-z0-9/+_=-]{20,}")


def looks_random(token: str) -> bool:
    """A run of letters and digits that changes character class often, as random keys do."""
    if _HEX.match(token) or not all(re.search(c, token) for c in ("[a-z]", "[A-Z]", "[0-9]")):
        return False
    kinds = [c.islower() - c.isupper() * 2 + c.isdigit() * 3 for c in token]  # a number per class
    return sum(a != b for a, b in zip(kinds, kinds[1:], strict=False)) >= 16


def mask_secretlike(text: str) -> str:
    """`mask()`, and also what merely looks like a secret: known token shapes, random-looking runs of
    40 characters, and a quoted literal after a secret's name. For text that quotes data toolkit did not
    choose to print (a failing statement's error, its DETAIL with the row's values)."""
    text = mask(text)
    for pattern, _what in SECRET_PATTERNS:
        text = pattern.sub(MASK, text)
    text = _NAMED_LITERAL.sub(rf"\1'{MASK}'", text)
    text = AWS_SECRET.sub(lambda m: MASK if looks_random(m.group()) else m.group(), text)
    long_random = lambda m: MASK if len(m.group()) >= 32 and looks_random(m.group()) else m.group()  # noqa: E731
    return _SECRETLIKE_TOKEN.sub(long_random, text)


def forget_all() -> None:
    """For tests: start from an empty registry."""
    with _lock:
        _secrets.clear()
