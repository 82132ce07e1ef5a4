"""What an environment runs, recorded after each successful deploy, and what the repository would deploy.

The promotion check compares the two: the migrations (versions and the SHA-256 of the bytes each ran
from), the pipelines' code fingerprints (values ignored) and the hash of each stack's code. Values may
differ between environments — that is what values files are for — so they are not part of either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from toolkit.support.hashing import ordered_sha256

if TYPE_CHECKING:  # reading a record (every stack a run opens checks its state against one) needs no engine
    from toolkit.migrations.source import LoadedMigrations

KIND = "deployments"  # where the records live beside the state: toolkit/deployments/<name>.json
# 1 (no `format` key): migrations by Flyway's CRC32. 2: by the SHA-256 of their bytes, the CRC32 kept beside.
# 3: `databases`, the same migration fields for each database after the project's first (the top-level ones
# stay the first database's, so a format-2 record reads as a one-database record).
FORMAT = 3
READABLE = (2, 3)
MIGRATION_FIELDS = ("migrations", "checksums", "migrations_sha256", "repeatables", "repeatable_checksums")


@dataclass(frozen=True)
class Deployment:
    environment: str
    # stack -> {"directory": relative path, "sha256": tree hash of its code, "external": {path: hash} of
    # what it reads from outside its folder (local modules, the Glue scripts)}
    stacks: dict[str, dict[str, Any]]
    migrations: dict[str, str]  # version -> SHA-256 of the file's bytes it was applied from
    pipelines: dict[str, str]  # "<rendered folder>/<name>" (as the stacks name them) -> code fingerprint
    deployed_at: str | None = None
    git_commit: str | None = None
    rendered: dict[str, str] = field(default_factory=dict)  # "<folder>/<name>" -> the definition deployed
    # version -> Flyway's checksum in the history table when recorded: the SHA-256 above is carried to the
    # next record only while the database still has that row as it was
    checksums: dict[str, int] = field(default_factory=dict)
    migrations_sha256: str | None = None  # one digest over `migrations`, in version order
    # repeatable migrations: script -> SHA-256 of the bytes it last ran from, and the history's checksum
    # (after placeholders) of that run, kept as for versioned ones
    repeatables: dict[str, str] = field(default_factory=dict)
    repeatable_checksums: dict[str, int] = field(default_factory=dict)
    format: int = 1  # records without the key were written before FORMAT 2
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> MIGRATION_FIELDS (format 3)
    first_database: str | None = None  # whose migrations the top-level fields are (format 3)

    @property
    def current(self) -> bool:
        return self.format in READABLE

    def database(self, name: str, *, first: str) -> Deployment:
        """This record with the top-level migration fields those of database `name` (empty when the record
        has none of it: a database added since). The top-level fields are the record's first database's, or
        in a format-2 record (which has no `first_database`) those of the project's first, `first`."""
        if name == (self.first_database or first):
            return self
        fields = self.databases.get(name, {})
        return replace(
            self, **{key: fields.get(key, {} if key != "migrations_sha256" else None) for key in MIGRATION_FIELDS}
        )

    @staticmethod
    def with_databases(per_database: dict[str, Deployment]) -> Deployment:
        """One record of several databases: the first's migration fields on top, the others' under `databases`."""
        first, *others = per_database
        top = per_database[first]
        rest = {name: {key: getattr(per_database[name], key) for key in MIGRATION_FIELDS} for name in others}
        return replace(top, databases=rest, first_database=first)


def outdated(record: Deployment) -> str:
    """Why a record of an older format cannot be compared: what to do about it."""
    return (
        f"the deployment record of {record.environment!r} was written by an older toolkit (format "
        f"{record.format}; it identifies migrations by Flyway's CRC32, which misses edits such as moved line "
        f"breaks): deploy {record.environment} again (toolkit env up {record.environment}, or apply a reviewed "
        "plan) so its record says what it runs by SHA-256"
    )


def migrations_digest(migrations: dict[str, str]) -> str:
    """One SHA-256 over the migrations (version -> digest), in version order."""
    return ordered_sha256(sorted(migrations.items(), key=lambda item: _version_key(item[0])))


def differences(source: Deployment, target_repo: Deployment, loaded: LoadedMigrations, target_env: str) -> list[str]:
    """Everything by which what `target_env` is about to receive differs from what `source` runs."""
    return migration_differences(source, target_repo, loaded, target_env) + code_differences(
        source, target_repo, target_env
    )


def migration_differences(
    source: Deployment, target_repo: Deployment, loaded: LoadedMigrations, target_env: str
) -> list[str]:
    """How the migrations (of one database: the top-level fields) `target_env` would receive differ."""
    runs_in = {str(m.file.version): m for m in loaded.versioned}
    found = []
    if source.migrations_sha256 != migrations_digest(source.migrations):
        found.append(f"the deployment record of {source.environment} is inconsistent: its migrations digest is wrong")
    for version in sorted(set(source.migrations) | set(target_repo.migrations), key=_version_key):
        was, will = source.migrations.get(version), target_repo.migrations.get(version)
        if was == will:
            continue
        file = runs_in.get(version)
        if was is not None and will is None and file is not None and not file.runs_in(target_env):
            continue  # an environment-specific migration (e.g. test fixtures) that never goes there
        if will is not None and was is None and file is not None and not file.runs_in(source.environment):
            continue
        if was is None:
            found.append(f"migration {version} would reach {target_env} but {source.environment} has not run it")
        elif will is None:
            found.append(f"migration {version} runs in {source.environment} but is not in this checkout")
        else:
            script = f" ({file.script})" if file is not None else ""
            found.append(
                f"migration {version}{script} differs: {source.environment} ran bytes with SHA-256 {was[:12]}, "
                f"this checkout has {will[:12]}"
            )
    return found + _repeatable_differences(source, target_repo, loaded, target_env)


def code_differences(source: Deployment, target_repo: Deployment, target_env: str) -> list[str]:
    """How the pipelines' code and the stacks `target_env` would receive differ from what `source` runs."""
    found = []
    for name in sorted(set(source.pipelines) | set(target_repo.pipelines)):
        was, will = source.pipelines.get(name), target_repo.pipelines.get(name)
        if was != will:
            state = "is new" if was is None else "was removed" if will is None else "has different code"
            found.append(f"pipeline {name} {state} compared with {source.environment}")
    for stack in sorted(set(source.stacks) | set(target_repo.stacks)):
        was, will = source.stacks.get(stack), target_repo.stacks.get(stack)
        if was is None or will is None:
            found.append(f"stack {stack} is used by only one of {source.environment} and {target_env}")
        elif was["directory"] != will["directory"]:
            found.append(
                f"stack {stack}: {source.environment} runs {was['directory']}, {target_env} uses {will['directory']}"
            )
        else:
            if was["sha256"] != will["sha256"]:
                found.append(f"stack {stack} ({will['directory']}) changed since {source.environment} was deployed")
            found += _external_differences(stack, was, will, source.environment)
    return found


def _repeatable_differences(
    source: Deployment, target_repo: Deployment, loaded: LoadedMigrations, target_env: str
) -> list[str]:
    files = {m.script: m for m in loaded.repeatable}
    found = []
    for script in sorted(set(source.repeatables) | set(target_repo.repeatables)):
        was, will = source.repeatables.get(script), target_repo.repeatables.get(script)
        file = files.get(script)
        if was == will or (file is not None and not file.runs_in(target_env if will is None else source.environment)):
            continue
        if was is None:
            found.append(
                f"repeatable migration {script} would run in {target_env} but {source.environment} has not run it"
            )
        elif will is None:
            found.append(f"repeatable migration {script} runs in {source.environment} but is not in this checkout")
        else:
            found.append(
                f"repeatable migration {script} differs: {source.environment} ran bytes with SHA-256 {was[:12]}, "
                f"this checkout has {will[:12]}"
            )
    return found


def _external_differences(stack: str, was: dict[str, Any], will: dict[str, Any], source: str) -> list[str]:
    if "external" not in was:
        return [
            f"stack {stack}: {source}'s deployment record has no hashes of what it reads from outside "
            f"{will['directory']} (made by an older toolkit): deploy {source} again"
        ]
    before, after = was["external"], will["external"]
    return [
        f"stack {stack}: {path} (read from outside {will['directory']}) changed since {source} was deployed"
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())
