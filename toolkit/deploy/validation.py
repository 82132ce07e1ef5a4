"""Everything that will deploy, checked before anything changes: migration files, their lint and their
placeholders, pipelines bound for the environment, the var files against the stacks' variables.

Only what will run is judged: a file already applied in the environment is history (its checksum is
recorded), so neither its lint nor its placeholders can stop a run. Which files are pending is asked of
the environment's database when there is a problem to judge and the database can be reached; otherwise
every file counts as pending (a new environment).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from pathlib import Path

from toolkit import __version__
from toolkit.deploy.context import Context
from toolkit.deploy.migrating import lint_policy, pending_scripts
from toolkit.deploy.stacks import sensitive_variables
from toolkit.errors import ValidationFailed
from toolkit.migrations.discovery import discover
from toolkit.migrations.engine import run_findings
from toolkit.migrations.known_files import KnownFiles
from toolkit.migrations.lint import LintPolicy, lint_sources
from toolkit.migrations.placeholders import BUILTINS, Placeholders, unknown_in
from toolkit.migrations.source import LoadedMigrations, MigrationSource, load
from toolkit.pipelines.validate import validate_for_environments
from toolkit.project.model import Environment
from toolkit.project.values import Value, Values, resolve_values
from toolkit.project.varfiles import read_var_keys
from toolkit.support.code_identity import toolkit_identity
from toolkit.support.hashing import file_sha256, ordered_sha256, tree_sha256
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.static import EnvironmentInputs, check_values


def load_migrations(ctx: Context) -> LoadedMigrations:
    """Every migration file, each read once (names, text, checksum, directives): file problems fail here,
    and so does a `-- toolkit:environments=` naming an environment the project does not have."""
    settings = ctx.project.migrations
    found = discover(ctx.project.sql_dir, validate_naming=settings.validate_migration_naming)
    loaded = load(found, KnownFiles(ctx.cache_file(migration_cache_name(ctx.project.sql_dir)), ctx.project.sql_dir))
    problems = [problem for source in loaded if (problem := unknown_environments(ctx, source))]
    if problems:
        raise ValidationFailed(
            "migration files name environments that do not exist:",
            problems,
            hint="fix the names (a typo would leave the file out everywhere, silently); nothing was run",
        )
    return loaded


def migration_cache_name(sql_dir: Path) -> str:
    """One cache file per migrations folder, so projects with several never take turns overwriting one."""
    return f"migration-files-{hashlib.sha256(str(sql_dir.resolve()).encode()).hexdigest()[:16]}.json"


def _could_be(project, item: str) -> bool:
    """Whether `item` of an environments directive names (or, as a shell pattern, could match) an
    environment of the project: a named one, or an instance of the ephemeral class."""
    if any(fnmatch.fnmatchcase(name, item) for name in project.environments):
        return True
    eph = project.ephemeral
    if eph is None:
        return False
    if not any(c in item for c in "*?["):
        return eph.matches(item)
    literal = re.split(r"[*?\[]", item, maxsplit=1)[0]
    prefixes = [p.removesuffix("<n>").removesuffix("<slug>") for p in eph.patterns]
    return any(literal.startswith(prefix) or prefix.startswith(literal) for prefix in prefixes)


def unknown_environments(ctx: Context, source: MigrationSource) -> str | None:
    """The problem with a file's `-- toolkit:environments=` list, naming the known environments, or None."""
    wanted = source.directives.environments
    unknown = [item for item in wanted or () if not _could_be(ctx.project, item)]
    if not unknown:
        return None
    match = re.search(r"toolkit:environments", source.text)
    line = source.text.count("\n", 0, match.start()) + 1 if match else 1
    eph = ctx.project.ephemeral
    known = ", ".join(sorted(ctx.project.environments)) + (f"; ephemeral: {', '.join(eph.patterns)}" if eph else "")
    return (
        f"{source.script}:{line}: toolkit:environments names {', '.join(unknown)}, which no environment is "
        f"(known: {known})"
    )


def refuse_destructive(loaded: LoadedMigrations, default_schema: str = "public") -> None:
    """Unallowed destructive changes in any file (each judged on its own) stop the run."""
    refused = [f for f in lint_sources(loaded, default_schema) if f.refused]
    if refused:
        raise ValidationFailed(
            "destructive changes without an allow annotation:",
            refused,
            hint="if intended, put `-- toolkit:allow=<rule>` at the top of the file (docs/migrations.md)",
        )


class _Declared:
    """values(ENV) before any stack has run: the var files' values, and each output the first stack
    declares (its value unknown yet, its keys known when it is an object literal)."""

    def __init__(self, values: Values, outputs: dict) -> None:
        self.values, self.outputs = values, outputs

    def names(self) -> set[str]:
        return self.values.names() | set(self.outputs)

    def lookup(self, path: str) -> Value | None:
        head, _, rest = path.partition(".")
        declared = self.outputs.get(head)
        if declared is None:
            return self.values.lookup(path)
        if rest and declared.keys is not None and rest.split(".")[0] not in declared.keys:
            return None
        return Value(path, "", f"output {head}")


def declared_placeholders(ctx: Context, env: Environment) -> Placeholders:
    """What can fill `${…}` in the environment, known before Terraform runs (values stand in as "")."""
    settings = ctx.project.migrations
    first = ctx.project.stack_order[0]
    values = resolve_values(env, ctx.project.root, {}, sensitive_variables(env))
    declared = _Declared(values, read_stack(env.stack_dir(first)).outputs)
    return Placeholders(declared, dict.fromkeys(BUILTINS, ""), settings.placeholders, settings.placeholder_replacement)


def migration_problems(
    ctx: Context, env: Environment, sources: list[MigrationSource], policy: LintPolicy, placeholders: Placeholders
) -> list:
    """Lint refusals (the files judged as one run) and unknown placeholders of the files that will run."""
    problems: list = [f for f in run_findings(sources, policy) if f.refused]
    for source in sources:
        problems += unknown_in(source.script, source.text, placeholders.for_file(source.file.name))
    return problems


def check_migrations(ctx: Context, env: Environment, loaded: LoadedMigrations) -> bool:
    """Refuse, before anything changes, what would stop the database step: unallowed destructive changes
    and unknown placeholders in the files that will run in this environment. True when every file passed
    (the database was not asked what is pending, so the verdict holds whatever it has applied)."""
    policy = lint_policy(ctx, loaded)
    placeholders = declared_placeholders(ctx, env)
    runs = [s for s in loaded if s.runs_in(env.name)]
    problems = migration_problems(ctx, env, runs, policy, placeholders)
    if not problems:
        return True
    if problems:
        pending = pending_scripts(ctx, env, loaded)
        if pending is not None:
            runs = [s for s in runs if s.script in pending]
            problems = migration_problems(ctx, env, runs, policy, placeholders)
    if problems:
        raise ValidationFailed(
            f"migrations that would run in {env.name!r}{_of(ctx)} cannot:",
            problems,
            hint="allow an intended change with `-- toolkit:allow=<rule>` at the top of a file not applied yet, "
            "or under [migrations.lint.allow] in toolkit.toml (the file stays as it is); give each unknown "
            "placeholder a value (docs/migrations.md)",
        )
    return False


def load_databases(ctx: Context) -> dict[str, LoadedMigrations]:
    """Every database's migration files (database name -> its loaded files), in the order they migrate."""
    return {database.name: load_migrations(ctx.for_database(database)) for database in ctx.project.databases}


def validate_databases(ctx: Context, env: Environment) -> dict[str, LoadedMigrations]:
    """The migrations (names, directives, lint, placeholders) of every database of the project, each checked
    as it would run in `env`; the pipelines with this environment's values; its var files against its
    stacks' variables. The loaded migrations by database name."""
    scoped = {database.name: ctx.for_database(database) for database in ctx.project.databases}
    loaded = {name: load_migrations(one) for name, one in scoped.items()}

    def check_files() -> bool:
        verdicts = [check_migrations(one, env, loaded[name]) for name, one in scoped.items()]
        return all(verdicts)

    _validated(ctx, env, loaded, check_files)
    return loaded


def _of(ctx: Context) -> str:
    return f" (database {ctx.current_database.name})" if len(ctx.project.databases) > 1 else ""


def _validated(ctx: Context, env: Environment, loaded: dict[str, LoadedMigrations], check_files) -> None:
    """Run `check_files` (True: its verdict did not depend on the database) and the checks of what is
    deployed, unless everything they read is byte for byte what passed last time (the cache)."""
    cache = ctx.cache_file(f"validated-{env.name}.json")
    key = validation_key(ctx, env, loaded) if cache is not None else None
    if key is not None and _load_verdict(cache) == key:
        return
    if check_files() and key is not None:
        _check_deployables(ctx, env)
        _store_verdict(cache, key)
    else:
        _check_deployables(ctx, env)


def _check_deployables(ctx: Context, env: Environment) -> None:
    """The pipelines with this environment's values, and its var files against its stacks' variables."""
    problems = [p for p in validate_for_environments(ctx.project, [env.name]) if p.is_error]
    if problems:
        raise ValidationFailed(
            f"pipelines are not valid for environment {env.name!r}:",
            problems,
            hint="fix the files (or bind the values in this environment's tfvars), then run again",
        )
    sources = {directory: read_stack(directory) for directory in env.stacks.values()}
    var_keys = {path: read_var_keys(path) for path in env.var_files}
    inputs = EnvironmentInputs(env.name, tuple(env.stacks.items()), env.var_files)
    findings = check_values(inputs, sources, var_keys, ctx.project.root)
    if findings:
        raise ValidationFailed(f"var files of environment {env.name!r} do not match the stacks' variables:", findings)


def validation_key(ctx: Context, env: Environment, loaded: dict[str, LoadedMigrations]) -> str:
    """What a passed validation of `env` depends on: the project's settings as loaded (toolkit.toml and
    the variables that override it), the migrations' SHA-256s, and the content of every file below the
    pipelines folder, of the var files and of the stacks' Terraform files; toolkit's own code
    (`support/code_identity.py`: an installed wheel by its RECORD, a checkout by every file's identity)."""
    digest = hashlib.sha256(f"{__version__}\0{env.name}\0{ctx.project!r}\0".encode())
    digest.update(
        ordered_sha256((f"{name}/{s.script}", s.sha256) for name, ones in loaded.items() for s in ones).encode()
    )
    pipelines = ctx.project.pipelines_dir
    if pipelines.is_dir():
        digest.update(tree_sha256(pipelines).encode())
    for path in (*env.var_files, *sorted(f for d in env.stacks.values() if d.is_dir() for f in d.iterdir())):
        if path.is_file() and (path in env.var_files or path.name.endswith((".tf", ".tf.json"))):
            digest.update(f"{path}\0{file_sha256(path)}\0".encode())
    digest.update(toolkit_identity().encode())
    return digest.hexdigest()


def _load_verdict(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("passed")
    except (OSError, ValueError, AttributeError):
        return None


def _store_verdict(path: Path, key: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"passed": key}), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:  # a read-only state folder: validate every time
        pass
