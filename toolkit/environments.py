"""Environment names: which names are valid, and a stable ephemeral name from a branch or pull request."""

from __future__ import annotations

import hashlib
import re

from toolkit.config import EphemeralClass
from toolkit.errors import UsageError

_PULL_REQUEST = re.compile(r"^(?:refs/)?(?:pull|pr|merge-requests|mr)[/-](\d+)(?:/.*)?$|^(\d+)$")


def slug(text: str) -> str:
    """Lower-case letters, digits and single '-', nothing at either end."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def name_from_branch(branch: str, ephemeral: EphemeralClass | None) -> str:
    """A valid ephemeral environment name for a branch (or `pull/123`), the same every time.

    Long branch names are cut and given a short hash of the whole branch name, so two branches that
    share a long prefix still get different names and every AWS name built from it stays in limits.
    """
    if ephemeral is None:
        raise UsageError(
            "this project declares no ephemeral environments",
            hint='add an [ephemeral] table to toolkit.toml, e.g. patterns = ["pr-<n>", "eph-<slug>"]',
        )
    branch = branch.strip()
    if not branch:
        raise UsageError("the branch name is empty")
    number = _PULL_REQUEST.match(branch)
    numbered = [p for p in ephemeral.patterns if p.endswith("<n>")]
    slugged = [p for p in ephemeral.patterns if p.endswith("<slug>")]
    if number and numbered:
        name = numbered[0].replace("<n>", number.group(1) or number.group(2))
        if ephemeral.matches(name):
            return name
    if not slugged:
        raise UsageError(
            f"branch {branch!r} is not a pull request number and no ephemeral pattern takes a <slug>",
            hint=f"patterns: {', '.join(ephemeral.patterns)}",
        )
    prefix = slugged[0].removesuffix("<slug>")
    body = slug(branch.removeprefix("refs/heads/")) or "branch"
    if len(prefix) + len(body) > ephemeral.max_length:
        digest = hashlib.sha256(branch.encode()).hexdigest()[:6]
        keep = ephemeral.max_length - len(prefix) - len(digest) - 1
        body = f"{body[:keep].rstrip('-')}-{digest}" if keep > 0 else digest
    return prefix + body
