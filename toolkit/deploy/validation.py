"""Everything that will deploy, checked before anything changes: migration files, their lint and their
placeholders, pipelines bound for the environment, the var files against the stacks' variables.

Only what will run is judged: a file already applied in the environment is history (its checksum is
recorded), so neither its lint nor its placeholders can stop a run. Which files are pending is asked of
the environment's database when there is a problem to judge and the database can be reached; otherwise
every file counts as pending (a new environment).
"""

from __future__ import annotations

from toolkit.deploy.context import Context
from toolkit.deploy.migrating import lint_policy, pending_scripts
from toolkit.deploy.stacks import sensitive_variables
from toolkit.errors import ValidationFailed
from toolkit.migrations.discovery import discover
from toolkit.migrations.lint import LintPolicy, lint_sources, run_findings
from toolkit.migrations.placeholders import BUILTINS, Placeholders, unknown_in
from toolkit.migrations.source import LoadedMigrations, MigrationSource, load
from toolkit.pipelines.validate import validate_for_environments
from toolkit.project.model import Environment
from toolkit.project.values import Value, Values, resolve_values
from toolkit.project.varfiles import read_var_keys
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.static import EnvironmentInputs, check_values


def load_migrations(ctx: Context) -> LoadedMigrations:
    """Every migration file, each read once (names, text, checksum, directives): file problems fail here."""
    settings = ctx.project.migrations
    return load(discover(ctx.project.sql_dir, validate_naming=settings.validate_migration_naming))


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
