"""Everything that will deploy, checked before anything changes: migration files and their lint, pipelines
bound for the environment, the var files against the stacks' variables."""

from __future__ import annotations

from toolkit.deploy.context import Context
from toolkit.errors import ValidationFailed
from toolkit.migrations.discovery import discover
from toolkit.migrations.lint import lint_sources
from toolkit.migrations.source import LoadedMigrations, load
from toolkit.pipelines.validate import validate_for_environments
from toolkit.project.model import Environment
from toolkit.project.varfiles import read_var_keys
from toolkit.terraform.hcl import read_stack
from toolkit.terraform.static import EnvironmentInputs, check_values


def load_migrations(ctx: Context) -> LoadedMigrations:
    """Every migration file, each read once (names, text, checksum, directives): file problems fail here."""
    return load(discover(ctx.project.sql_dir))


def refuse_destructive(loaded: LoadedMigrations, default_schema: str = "public") -> None:
    """Unannotated destructive changes in any file stop the run before Terraform does anything."""
    refused = [f for f in lint_sources(loaded, default_schema) if f.refused]
    if refused:
        raise ValidationFailed(
            "destructive changes without an allow annotation:",
            refused,
            hint="if intended, put `-- toolkit:allow=<rule>` at the top of the file (docs/migrations.md)",
        )


def validate_environment(ctx: Context, env: Environment) -> LoadedMigrations:
    """The migrations (names, directives, lint), the pipelines with this environment's values, and its var
    files against its stacks' variables; the loaded migrations, for the steps after it."""
    loaded = load_migrations(ctx)
    refuse_destructive(loaded, ctx.project.migrations.schema)
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
