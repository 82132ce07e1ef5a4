"""Load and check toolkit.toml into a `Project`.

Unknown keys are errors (a typo must not silently fall back to a default); every error names the file
and the dotted key, and says what would be accepted.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError, ConfigErrors
from toolkit.project.durations import TERRAFORM_DURATION, parse_duration
from toolkit.project.migration_settings import read_databases
from toolkit.project.model import (
    BACKEND_TYPES,
    DATABASE_MODES,
    ENGINES,
    GRACE_PERIOD_ENV_VAR,
    LOCK_TIMEOUT_ENV_VAR,
    Backend,
    Environment,
    EphemeralClass,
    Project,
    TerraformSettings,
)
from toolkit.project.names import DIGEST_MIN, ENV_NAME_RE
from toolkit.support.paths import links_out, resolve_inside

MAX_STRING = 1024  # the longest string value toolkit.toml may hold (paths, names, durations)
PASS_ENV_RULE = (
    "must be a list of variable names (NAME or PREFIX_*); TF_VAR_*, TF_CLI_ARGS*, TF_WORKSPACE and "
    "TF_DATA_DIR cannot be passed (they would change the run behind toolkit.toml and the plan)"
)
PASS_ENV = re.compile(r"(?!TF_VAR_|TF_CLI_ARGS|TF_WORKSPACE\Z|TF_DATA_DIR\Z)[A-Za-z_][A-Za-z0-9_]*\*?")

CONFIG_NAME = "toolkit.toml"


def find_config(start: Path) -> Path:
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any folder above it",
        hint="run toolkit from your project's root, or pass --project PATH",
    )


def load_project(path: Path | None = None) -> Project:
    """Read toolkit.toml from `path` (a file or a folder to search upward from; default: cwd)."""
    path = Path.cwd() if path is None else path
    config_path = path.resolve() if path.is_file() else find_config(path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"not valid TOML: {exc}",
            path=str(config_path),
            hint="fix the syntax at the line and column given",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(config_path)) from exc
    return _Reader(config_path).project(raw)


class _Reader:
    """Turns the parsed TOML into a Project, reporting every wrong key with its dotted path."""

    def __init__(self, config_path: Path) -> None:
        self.path = config_path
        self.root = config_path.parent
        self.unknown: list[ConfigError] = []  # unknown keys, reported with the other problems

    def fail(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=str(self.path), key=key, hint=hint)

    def table(self, raw: Any, key: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a table, not {type(raw).__name__}")
        return raw

    def only(self, raw: dict[str, Any], key: str, allowed: set[str]) -> None:
        """Every unknown key of the table, kept for the report at the end: the rest of the table is still
        checked, so every problem comes out at once."""
        prefix = f"{key}." if key else ""
        self.unknown += [
            self.fail(f"{prefix}{name}", "unknown key", hint=f"allowed here: {', '.join(sorted(allowed))}")
            for name in sorted(set(raw) - allowed)
        ]

    def string(
        self, raw: dict[str, Any], key: str, name: str, default: str | None = None, *, hint: str | None = None
    ) -> str:
        value = raw.get(name, default)
        if not isinstance(value, str) or not value:
            raise self.fail(
                f"{key}.{name}" if key else name,
                "must be a non-empty string" + ("" if default is not None else " (required)"),
                hint=hint,
            )
        if len(value) > MAX_STRING:  # never echoed: a huge value would flood the terminal (and stall it)
            raise self.fail(f"{key}.{name}" if key else name, f"is {len(value)} characters long; at most {MAX_STRING}")
        return value

    def boolean(self, raw: dict[str, Any], key: str, name: str, default: bool = False) -> bool:
        value = raw.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(
                f"{key}.{name}",
                f"must be true or false, not {value!r}",
                hint=f"write {name} = true or {name} = false, without quotes",
            )
        return value

    def duration(
        self, raw: dict[str, Any], key: str, name: str, default: str, *, hint: str, env_var: str | None = None
    ) -> str:
        """A Terraform-style duration; an environment variable, when named and set, wins over the file."""
        from_env = os.environ.get(env_var) if env_var else None
        value = from_env or self.string(raw, key, name, default)
        if not TERRAFORM_DURATION.fullmatch(value):
            hint = f"write it as Terraform does, {hint}"
            if from_env:
                raise ConfigError(f"environment variable {env_var}: {value!r} is not a duration", hint=hint)
            raise self.fail(f"{key}.{name}", f"{value!r} is not a duration", hint=hint)
        return value

    def folder(self, raw: dict[str, Any], key: str, name: str, default: str) -> Path:
        written = self.root / self.string(raw, key, name, default)
        return written.resolve() if name == "state_dir" else self.real(written, self.root, f"{key}.{name}")

    def real(self, written: Path, home: Path, key: str) -> Path:
        try:
            return resolve_inside(written, home)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def project(self, raw: dict[str, Any]) -> Project:
        """Every section is checked, each on its own, and every problem found is reported at once (a section
        that depends on a wrong one, like the environments on `stacks`, is left unchecked)."""
        errors: list[ConfigError] = []

        def attempt(check: Any, default: Any = None) -> Any:
            try:
                return check()
            except ConfigErrors as many:
                errors.extend(many.errors)
            except ConfigError as exc:
                errors.append(exc)
            return default

        attempt(
            lambda: self.only(
                raw, "", {"project", "terraform", "migrations", "databases", "stacks", "environments", "ephemeral"}
            )
        )
        proj = attempt(lambda: self.table(raw.get("project", {}), "project"), {})
        attempt(lambda: self.only(proj, "project", {"name", "sql", "pipelines", "tfvars", "state_dir"}))
        stacks = attempt(lambda: self.stacks(raw))
        envs_raw = attempt(lambda: self.environments_table(raw), {})
        tfvars_dir = attempt(lambda: self.folder(proj, "project", "tfvars", "tfvars"))
        environments: dict[str, Environment] = {}
        if stacks is not None and tfvars_dir is not None:
            for name, body in envs_raw.items():
                found = attempt(lambda n=name, b=body: self.environment(n, b, stacks, tfvars_dir))
                if found is not None:
                    environments[name] = found
        paths = {
            key: attempt(lambda k=key, d=default: self.folder(proj, "project", k, d))
            for key, default in (("sql", "sql"), ("pipelines", "pipelines"), ("state_dir", ".toolkit"))
        }
        name = attempt(lambda: self.string(proj, "project", "name", self.root.name))
        terraform = attempt(lambda: self.terraform(raw.get("terraform", {})))
        databases = attempt(lambda: read_databases(self, raw, paths["sql"]), ()) if paths["sql"] else ()
        ephemeral = None
        if "ephemeral" in raw and stacks is not None and tfvars_dir is not None:
            ephemeral = attempt(lambda: self.ephemeral(raw["ephemeral"], stacks, tfvars_dir, environments))
        errors = sorted(self.unknown + errors, key=lambda e: e.key or "")
        if errors:
            raise errors[0] if len(errors) == 1 else ConfigErrors(errors, str(self.path))
        return Project(
            root=self.root,
            config_path=self.path,
            name=name,
            sql_dir=databases[0].sql_dir,
            pipelines_dir=paths["pipelines"],
            tfvars_dir=tfvars_dir,
            state_dir=paths["state_dir"],
            stack_order=stacks,
            environments=environments,
            terraform=terraform,
            migrations=databases[0].settings,
            ephemeral=ephemeral,
            databases=databases,
        )

    def stacks(self, raw: dict[str, Any]) -> tuple[str, ...]:
        stacks = raw.get("stacks", ["infra"])
        if not (isinstance(stacks, list) and stacks and all(isinstance(s, str) and s for s in stacks)):
            raise self.fail("stacks", "must be a non-empty list of stack names, in the order they apply")
        if len(set(stacks)) != len(stacks):
            raise self.fail("stacks", "lists a stack twice")
        return tuple(stacks)

    def environments_table(self, raw: dict[str, Any]) -> dict[str, Any]:
        envs_raw = self.table(raw.get("environments", {}), "environments")
        if not envs_raw:
            raise self.fail("environments", "declares no environment", hint="add at least [environments.local]")
        return envs_raw

    def terraform(self, raw: Any) -> TerraformSettings:
        raw = self.table(raw, "terraform")
        self.only(raw, "terraform", {"engine", "lock_timeout", "grace_period", "pass_env"})
        engine = self.string(raw, "terraform", "engine", "auto")
        if engine not in ENGINES and "/" not in engine:
            raise self.fail(
                "terraform.engine",
                f"unknown engine {engine!r}",
                hint=f"one of {', '.join(ENGINES)}, or a path to a terraform/tofu binary",
            )
        lock_timeout = self.duration(
            raw, "terraform", "lock_timeout", "5m", env_var=LOCK_TIMEOUT_ENV_VAR, hint="e.g. 30s, 5m, 1h"
        )
        grace_period = self.duration(
            raw, "terraform", "grace_period", "30s", env_var=GRACE_PERIOD_ENV_VAR, hint="e.g. 10s, 30s, 2m"
        )
        pass_env = raw.get("pass_env", [])
        if not isinstance(pass_env, list) or not all(isinstance(n, str) and PASS_ENV.fullmatch(n) for n in pass_env):
            raise self.fail("terraform.pass_env", PASS_ENV_RULE)
        return TerraformSettings(engine, lock_timeout, grace_period, tuple(pass_env))

    def ephemeral(
        self, raw: Any, stack_order: tuple[str, ...], tfvars_dir: Path, named: dict[str, Environment]
    ) -> EphemeralClass:
        key = "ephemeral"
        raw = dict(self.table(raw, key))
        patterns = raw.pop("patterns", None)
        if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns)):
            raise self.fail(
                f"{key}.patterns",
                "must be a non-empty list of name patterns",
                hint='e.g. patterns = ["pr-<n>", "eph-<slug>"]',
            )
        for index, pattern in enumerate(patterns):
            if not re.fullmatch(r"[a-z][a-z0-9-]*(<n>|<slug>)", pattern):
                raise self.fail(
                    f"{key}.patterns[{index}]",
                    f"{pattern!r} is not a name pattern",
                    hint="a lower-case prefix ending in '-' followed by <n> (digits) or <slug>",
                )
        ttl_hint = 'e.g. ttl = "72h" (m minutes, h hours, d days)'
        ttl = parse_duration(raw.pop("ttl", "72h"), lambda m: self.fail(f"{key}.ttl", m, hint=ttl_hint))
        max_length = raw.pop("max_length", 24)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 4 <= max_length <= 40:
            raise self.fail(
                f"{key}.max_length",
                "must be a whole number from 4 to 40",
                hint="keep room for prefixes in AWS names (RDS identifiers and buckets: 63)",
            )
        for pattern in patterns:
            prefix = pattern.removesuffix("<slug>").removesuffix("<n>")
            needed = len(prefix) + (DIGEST_MIN if pattern.endswith("<slug>") else 1)
            if needed > max_length:
                raise self.fail(
                    f"{key}.max_length",
                    f"{max_length} leaves no room for names of the pattern {pattern!r}: "
                    + (
                        f"{len(prefix)} characters of prefix and at least {DIGEST_MIN} of <slug> (a short "
                        "hash when the branch does not fit)"
                        if pattern.endswith("<slug>")
                        else f"{len(prefix)} characters of prefix and at least one digit"
                    ),
                    hint=f"raise max_length to {needed} or more, or shorten the pattern's prefix",
                )
        for fixed in ("protected", "create_workspace"):
            if fixed in raw:
                raise self.fail(
                    f"{key}.{fixed}",
                    "does not apply to ephemeral environments",
                    hint="they are never protected and always created on demand",
                )
        template = self.environment("ephemeral", raw, stack_order, tfvars_dir, key=key)
        eph = EphemeralClass(tuple(patterns), template, ttl, max_length)
        clash = sorted(name for name in named if eph.matches(name))
        if clash:
            raise self.fail(
                f"environments.{clash[0]}",
                "matches an ephemeral pattern",
                hint="rename it: named environments and ephemeral names must not overlap",
            )
        return eph

    def environment(
        self, name: str, raw: Any, stack_order: tuple[str, ...], tfvars_dir: Path, key: str | None = None
    ) -> Environment:
        key = key or f"environments.{name}"
        raw = self.table(raw, key)
        if not ENV_NAME_RE.match(name):
            raise self.fail(
                key,
                f"environment name {name!r} is not valid",
                hint="lower-case letters, digits and '-', starting with a letter, at most 40",
            )
        self.only(raw, key, {"stacks", "backend", "var_files", "protected", "database", "create_workspace"})
        stacks_raw = self.table(raw.get("stacks"), f"{key}.stacks") if "stacks" in raw else None
        if stacks_raw is None:
            raise self.fail(
                f"{key}.stacks",
                "is required",
                hint=f'map each stack to its directory, e.g. stacks = {{ {stack_order[0]} = "terraform/local/infra" }}',
            )
        missing = [s for s in stack_order if s not in stacks_raw]
        extra = [s for s in stacks_raw if s not in stack_order]
        if missing or extra:
            raise self.fail(
                f"{key}.stacks",
                f"must map exactly the stacks {list(stack_order)}"
                + (f"; missing {missing}" if missing else "")
                + (f"; not declared in `stacks`: {extra}" if extra else ""),
            )
        stacks: dict[str, Path] = {}
        for stack in stack_order:
            folder = self.real(self.root / self.string(stacks_raw, f"{key}.stacks", stack), self.root, key)
            if not folder.is_dir():
                raise self.fail(
                    f"{key}.stacks.{stack}",
                    f"directory {folder} does not exist",
                    hint="point it at the Terraform configuration of that stack",
                )
            if not any(folder.glob("*.tf")) and not any(folder.glob("*.tf.json")):
                raise self.fail(
                    f"{key}.stacks.{stack}",
                    f"directory {folder} holds no Terraform file (*.tf)",
                    hint="point it at the folder with the stack's .tf files",
                )
            if problem := links_out(folder):  # what Terraform reads of the stack: no link out of it
                raise self.fail(f"{key}.stacks.{stack}", problem)
            stacks[stack] = folder
        var_files_raw = raw.get("var_files", [f"{name}.tfvars.json"])
        if not (isinstance(var_files_raw, list) and all(isinstance(v, str) for v in var_files_raw)):
            raise self.fail(f"{key}.var_files", "must be a list of file names under the tfvars folder")
        var_files = tuple(self.real(tfvars_dir / v, tfvars_dir, f"{key}.var_files") for v in var_files_raw)
        for index, vf in enumerate(var_files):
            if not vf.is_file():
                raise self.fail(
                    f"{key}.var_files[{index}]",
                    f"{vf} does not exist",
                    hint="create it, or remove it from var_files",
                )
        protected = self.boolean(raw, key, "protected")
        database = raw.get("database", "external")
        if database not in DATABASE_MODES:
            raise self.fail(
                f"{key}.database",
                f"{database!r} is not a database mode",
                hint=f"one of {', '.join(DATABASE_MODES)}",
            )
        create_workspace = self.boolean(raw, key, "create_workspace")
        return Environment(
            name=name,
            stacks=stacks,
            backend=self.backend(raw.get("backend"), key),
            var_files=var_files,
            protected=protected,
            database=database,
            create_workspace=create_workspace,
        )

    def backend(self, raw: Any, env_key: str) -> Backend:
        key = f"{env_key}.backend"
        if raw is None:
            raise self.fail(key, "is required", hint='e.g. backend = { type = "local" }')
        raw = dict(self.table(raw, key))
        kind = raw.pop("type", None)
        if kind not in BACKEND_TYPES:
            raise self.fail(
                f"{key}.type",
                f"{kind!r} is not a supported backend",
                hint=f"one of {', '.join(BACKEND_TYPES)}",
            )
        if kind == "s3":
            self.only(raw, key, {"bucket", "region", "key", "endpoint", "kms_key_id"})
            for required in ("bucket", "region"):
                self.string(
                    raw,
                    key,
                    required,
                    hint='e.g. backend = { type = "s3", bucket = "acme-orders-state", region = "eu-west-1" }; '
                    "create the bucket with `toolkit bootstrap ENV`",
                )
        else:
            self.only(raw, key, set())
        return Backend(type=kind, settings=raw)
