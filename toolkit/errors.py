"""The one error tree of toolkit, and the exit codes the CLI maps it to.

Every error carries a message a user can act on; library code raises these, only the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check failed (validation, lint, drift)
    CHANGES_PENDING = 2  # only with --detailed-exitcode, as Terraform's own
    CONFIG = 3  # configuration or environment: toolkit.toml, missing tools, unreachable services
    STEP_FAILED = 4  # a change was attempted and failed (a migration, the local database)
    USAGE = 64  # bad arguments: unknown environment, option or workspace (EX_USAGE: 2 means changes pending)
    INTERNAL = 70  # a bug (EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM; Terraform was asked to stop cleanly


class ToolkitError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code: int = ExitCode.CONFIG

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(ToolkitError):
    exit_code = ExitCode.USAGE


class ConfigError(ToolkitError):
    """toolkit.toml (or a file it points to) is wrong: names the file and the key."""

    exit_code = ExitCode.CONFIG

    def __init__(
        self, message: str, *, path: str | None = None, key: str | None = None, hint: str | None = None
    ) -> None:
        where = ":".join(p for p in (path, key) if p)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.key = key


class ConfigErrors(ConfigError):
    """Several problems with one file (toolkit.toml), all reported at once; `errors` are each one's own."""

    def __init__(self, errors: Sequence[ConfigError], path: str) -> None:
        self.errors = list(errors)
        self.problems = [str(e).replace("\n", "\n    ") for e in self.errors]
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.errors)} problems:\n{body}", path=path, hint="fix each of them, then run again")


class UnknownEnvironment(UsageError):
    def __init__(self, name: str, known: list[str], ephemeral_patterns: list[str] | None = None) -> None:
        patterns = ephemeral_patterns or []
        super().__init__(
            f"unknown environment {name!r} (known: {', '.join(known) or 'none'}"
            + (f"; ephemeral: {', '.join(patterns)}" if patterns else "")
            + ")",
            hint="declare it under [environments] in toolkit.toml, or check the spelling",
        )
        self.name = name
        self.known = known


class ValidationFailed(ToolkitError):
    """Inputs did not pass a check. `problems` are one line each as text; they may be structured (a pipeline
    problem with its file, line and JSON pointer, a lint finding), so `--json` keeps their fields."""

    exit_code = ExitCode.CHECK_FAILED

    def __init__(self, message: str, problems: Sequence[object], *, hint: str | None = None) -> None:
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{message}\n{body}" if problems else message, hint=hint)
        self.problems = list(problems)


class EngineError(ToolkitError):
    """No usable Terraform engine, or the engine could not be started."""

    exit_code = ExitCode.CONFIG


class TerraformFailed(ToolkitError):
    """Terraform ran and failed: its own exit code is passed through."""

    def __init__(self, message: str, *, returncode: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = returncode if returncode > 0 else ExitCode.STEP_FAILED
        self.returncode = returncode


class StateLocked(TerraformFailed):
    """Another run holds the state lock: the message says who and since when, the hint how to release it."""

    def __init__(self, message: str, *, lock_id: str, returncode: int, hint: str) -> None:
        super().__init__(message, returncode=returncode, hint=hint)
        self.lock_id = lock_id


class StateNotWritten(ToolkitError):
    """Terraform could not write the state to the backend and saved it in `errored.tfstate`: until it is
    pushed, any run would work from the old state and create every resource again."""

    exit_code = ExitCode.STEP_FAILED


class EnvironmentNotUp(UsageError):
    """The environment has no workspace (or no state) in a stack yet: a usage error (exit 64), as a missing
    workspace is wherever it is found."""


class DatabaseError(ToolkitError):
    """The database could not be reached or refused what we asked."""

    exit_code = ExitCode.CONFIG


class MigrationFailed(ToolkitError):
    """A migration was attempted and rolled back (or, if non-transactional, recorded as failed)."""

    exit_code = ExitCode.STEP_FAILED


class Interrupted(ToolkitError):
    exit_code = ExitCode.INTERRUPTED


class GuardRefused(ToolkitError):
    """A guard refused the operation (protected environment, unreviewed plan)."""

    exit_code = ExitCode.CONFIG
