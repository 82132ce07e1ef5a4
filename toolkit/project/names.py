"""Environment names: which names are valid, and a stable ephemeral name from a branch or pull request."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING

from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.project.model import EphemeralClass

DIGEST_MIN = 4  # the shortest <slug> an ephemeral name may have: a 4-hex-digit hash of the branch
ENV_NAME_RE = re.compile(r"\A[a-z][a-z0-9-]{0,39}\Z")  # \Z: "$" would let a trailing newline pass
NAME_RULES = "environment names are lower-case letters, digits and '-', start with a letter, at most 40 characters"
_PULL_REQUEST = re.compile(r"^(?:refs/)?(?:pull|pr|merge-requests|mr)[/-](\d+)(?:/.*)?$|^(\d+)$")
DIGEST_LENGTH = 6  # hex digits of sha256 added when a name cannot say the branch exactly


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and single '-', nothing at either end; accented letters lose
    their accents (NFKD), other characters become '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def normalise_branch(branch: str) -> str:
    """The branch as git names it to people: surrounding space and `refs/heads/` removed."""
    return branch.strip().removeprefix("refs/heads/")


def name_from_branch(branch: str, ephemeral: EphemeralClass | None) -> str:
    """A valid ephemeral environment name for a branch (or `pull/123`), the same every time.

    When the slug says the branch exactly (`fix-login` → `eph-fix-login`) it is the name. When slugging
    loses anything (case, `/`, `_`, accents, other characters) or the name must be cut to max_length,
    a short hash of the normalised branch is appended (or is the whole body), so branches that slug
    alike (`a_b`, `a-b`, `A/b`) still get different names, and `x` and `refs/heads/x` the same one.
    """
    if ephemeral is None:
        raise UsageError(
            "this project declares no ephemeral environments",
            hint='add an [ephemeral] table to toolkit.toml, e.g. patterns = ["pr-<n>", "eph-<slug>"]',
        )
    normalised = normalise_branch(branch)
    if not normalised:
        raise UsageError("the branch name is empty", hint="pass the branch or pull request ref, e.g. pull/12")
    number = _PULL_REQUEST.match(normalised)
    numbered = [p for p in ephemeral.patterns if p.endswith("<n>")]
    slugged = [p for p in ephemeral.patterns if p.endswith("<slug>")]
    if number and numbered:
        name = numbered[0].replace("<n>", number.group(1) or number.group(2))
        if ephemeral.matches(name):
            return name
    if not slugged:
        raise UsageError(
            f"branch {branch!r} is not a pull request number (or its name is too long for "
            f"max_length {ephemeral.max_length}) and no ephemeral pattern takes a <slug>",
            hint=f"patterns: {', '.join(ephemeral.patterns)}",
        )
    prefix = slugged[0].removesuffix("<slug>")
    room = ephemeral.max_length - len(prefix)
    if room < DIGEST_MIN:  # load_project refuses such a max_length; a hand-built class may not
        raise UsageError(
            f"max_length {ephemeral.max_length} leaves no room for a name of the pattern {slugged[0]!r}",
            hint=f"raise [ephemeral].max_length to at least {len(prefix) + DIGEST_MIN}",
        )
    body = slug(normalised)
    if body != normalised or len(body) > room:
        digest = hashlib.sha256(normalised.encode()).hexdigest()[: min(DIGEST_LENGTH, room)]
        keep = room - len(digest) - 1
        body = f"{body[:keep].rstrip('-')}-{digest}" if keep > 0 and body[:keep].rstrip("-") else digest
    return prefix + body
