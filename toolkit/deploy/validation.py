"""Everything that will deploy, checked before anything changes: migration files, their lint and their
placeholders, pipelines bound for the environment, the var files against the stacks' variables.

Only what will run is judged: a file already applied in the environment is history (its checksum is
recorded), so neither its lint nor its placeholders can stop a run. Which files are pending is asked of
the environment's database when there is a problem to judge and the database can be reached; otherwise
every file counts as pending (a new environment).
"""

from __future__ import annotations

import fnmatch
import re

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
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.static import EnvironmentInputs, check_values


def load_migrations(ctx: Context) -> LoadedMigrations:
    """Every migration file, each read once (names, text, checksum, directives): file problems fail here,
    and so does a `-- toolkit:environments=` naming an environment the project does not have."""
    settings = ctx.project.migrations
    found = discover(ctx.project.sql_dir, validate_naming=settings.validate_migration_naming)
    loaded = load(found, KnownFiles(ctx.cache_file("migration-files.json"), ctx.project.sql_dir))
    problems = [problem for source in loaded if (problem := unknown_environments(ctx, source))]
    if problems:
        raise ValidationFailed(
            "migration files name environments that do not exist:",
            problems,
            hint="fix the names (a typo would leave the file out everywhere, silently); nothing was run",
        )
    return loaded


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
        problems += unknown_in(source.script, source.text, placeholders.for_file(source.file.path.name))
    return problems


def check_migrations(ctx: Context, env: Environment, loaded: LoadedMigrations) -> None:
    """Refuse, before anything changes, what would stop the database step: unallowed destructive changes
    and unknown placeholders in the files that will run in this environment."""
    policy = lint_policy(ctx, loaded)
    placeholders = declared_placeholders(ctx, env)
    runs = [s for s in loaded if s.runs_in(env.name)]
    problems = migration_problems(ctx, env, runs, policy, placeholders)
    if problems:
        pending = pending_scripts(ctx, env, loaded)
        if pending is not None:
            runs = [s for s in runs if s.script in pending]
            problems = migration_problems(ctx, env, runs, policy, placeholders)
    if problems:
        raise ValidationFailed(
            f"migrations that would run in {env.name!r} cannot:",
            problems,
            hint="allow an intended change with `-- toolkit:allow=<rule>` at the top of a file not applied yet, "
            "or under [migrations.lint.allow] in toolkit.toml (the file stays as it is); give each unknown "
            "placeholder a value (docs/migrations.md)",
        )


def validate_environment(ctx: Context, env: Environment) -> LoadedMigrations:
    """The migrations (names, directives, lint, placeholders), the pipelines with this environment's values,
    and its var files against its stacks' variables; the loaded migrations, for the steps after it."""
    loaded = load_migrations(ctx)
    check_migrations(ctx, env, loaded)
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
    return loaded
