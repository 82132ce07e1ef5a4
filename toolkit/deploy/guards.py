"""Guards every changing verb shares: a protected environment changes only by a reviewed plan, and is
never destroyed by toolkit."""

from __future__ import annotations

from toolkit.errors import GuardRefused
from toolkit.project.model import Environment


def refuse_protected(env: Environment, what: str) -> None:
    """Refuse `what` (e.g. `env up`, `db migrate`) on a protected environment: it changes only through
    `toolkit apply --plan`, which applies a reviewed bundle through the library, not these commands."""
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected: it is changed only by a reviewed plan, not by `{what}`",
            hint=f"toolkit plan {env.name} --out DIR, review DIR/summary.md, then toolkit apply {env.name} --plan DIR",
        )


def refuse_destroying_protected(env: Environment) -> None:
    if env.protected:
        raise GuardRefused(
            f"environment {env.name!r} is protected and is never destroyed by toolkit",
            hint="remove `protected = true` in toolkit.toml through a reviewed change if it really must go",
        )
