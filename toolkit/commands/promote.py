"""`toolkit promote-check FROM TO`: is TO about to receive exactly what FROM runs?"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.deploy.context import Context
from toolkit.deploy.deployment import from_repository_all
from toolkit.deploy.records import deployment_store
from toolkit.deploy.validation import load_databases
from toolkit.errors import ToolkitError
from toolkit.state.deployments import code_differences, migration_differences, outdated


@dataclass(frozen=True)
class PromoteCheckResult:
    source: str
    target: str
    source_deployed_at: str | None
    source_commit: str | None
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def promote_check(ctx: Context, source: str, target: str) -> PromoteCheckResult:
    """Compare what SOURCE runs (its deployment record) with what this checkout would deploy to TARGET."""
    source_env = ctx.project.environment(source)
    target_env = ctx.project.environment(target)
    recorded = deployment_store(ctx, source_env).get(source_env.name)
    if recorded is None:
        raise ToolkitError(
            f"{source_env.name!r} has no deployment record: toolkit has not deployed it yet (or it was torn down)",
            hint=f"deploy it first: toolkit env up {source_env.name} (or apply a reviewed plan)",
        )
    if not recorded.current:
        raise ToolkitError(outdated(recorded), hint=f"deploy {source_env.name} again, then run promote-check")
    loaded = load_databases(ctx)
    repo = from_repository_all(ctx, target_env, loaded)
    found = []
    for database, files in loaded.items():  # each database's migrations, named when there are several
        where = f"database {database}: " if len(loaded) > 1 else ""
        first = ctx.project.databases[0].name
        ran, will = recorded.database(database, first=first), repo.database(database, first=first)
        found += [where + item for item in migration_differences(ran, will, files, target_env.name)]
    found += code_differences(recorded, repo, target_env.name)
    return PromoteCheckResult(source_env.name, target_env.name, recorded.deployed_at, recorded.git_commit, tuple(found))
