"""Guards every changing command shares: a protected environment changes only by a reviewed plan."""

from __future__ import annotations

from toolkit.config import Environment
from toolkit.errors import GuardRefused


def refuse_protected(env: Environment, what: str) -> None:
    """Refuse `what` (e.g. `env up`, `db migrate`) on a protected environment: it changes only through
    `toolkit apply --plan`, which applies a reviewed bundle through the library, not these commands."""
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected: it is changed only by a reviewed plan, not by `{what}`",
            hint=f"toolkit plan {env.name} --out DIR, review DIR/summary.md, then toolkit apply {env.name} --plan DIR",
        )
