"""Guards every changing verb shares: a protected environment changes only by a reviewed plan, and is
never destroyed by toolkit."""

from __future__ import annotations

from toolkit.errors import ConfigError, GuardRefused
from toolkit.project.model import Environment, Project


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


def refuse_several_databases(project: Project, what: str) -> None:
    """Plan bundles carry one database's migrations so far: a project of several is refused, rather than a
    reviewed plan that leaves a database out."""
    if len(project.databases) > 1:
        names = ", ".join(d.name for d in project.databases)
        raise ConfigError(
            f"`{what}` does not yet carry several databases ({names}): a plan bundle reviews one database's migrations",
            hint="deploy such a project with `toolkit env up ENV`; bundles of several databases are not built yet",
        )
