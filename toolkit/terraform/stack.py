"""One Terraform stack in one environment, run through the one subprocess runner (argv from `terraform/argv.py`).

Every environment gets its own TF_DATA_DIR, so environments that share a stack directory never share
backend initialisation, and the workspace is selected explicitly, never through TF_WORKSPACE.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.adapters import process
from toolkit.errors import ConfigError, Interrupted, StateLocked, TerraformFailed, UsageError
from toolkit.support.log import get_logger
from toolkit.support.masking import mask
from toolkit.support.terminal import plain
from toolkit.terraform import argv, mirror
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.emulator_override import provider_override
from toolkit.terraform.engine import Engine, base_environment, supported_version
from toolkit.terraform.errored import keep_errored
from toolkit.terraform.outputs import Output, parse_outputs
from toolkit.terraform.remote_state import s3_state_identity
from toolkit.terraform.run_cache import (
    RunCache,
    engine_identity,
    init_fingerprint,
    mark_initialised,
    read_state_identity,
)

log = get_logger(__name__)

LineSink = Callable[[str, str], None]


class Stack:
    """Runs Terraform for one StackTarget through the one subprocess runner."""

    def __init__(
        self,
        engine: Engine,
        target: StackTarget,
        *,
        on_line: LineSink | None = None,
        endpoint: str | None = None,
        extra_env: dict[str, str] | None = None,
        cache_folder: Path | None = None,
    ) -> None:
        self.engine = engine
        self.target = target
        self.on_line = on_line
        self.endpoint = endpoint
        self.env = base_environment({"TF_DATA_DIR": str(target.data_dir), **(extra_env or {})})
        self.cache = RunCache(cache_folder, target.environment, target.stack)
        self._engine_key: list | None = engine_identity(engine.argv) if cache_folder is not None else None

    def _run(
        self, args: list[str], *, what: str, stream: bool = True, ok_codes: tuple[int, ...] = (0,)
    ) -> process.Completed:
        self.target.data_dir.mkdir(parents=True, exist_ok=True)
        log.debug("running %s", " ".join(self.engine.command(*args)))
        with provider_override(self.target.directory, self.endpoint):
            result = process.run(
                self.engine.command(*args),
                env=self.env,
                on_line=_plain_lines(self.on_line) if stream else None,
                grace_seconds=self.target.grace_seconds,
            )
        return self._checked(result, args, what, ok_codes)

    def _checked(
        self, result: process.Completed, args: list[str], what: str, ok_codes: tuple[int, ...]
    ) -> process.Completed:
        result = dataclasses.replace(result, stdout=plain(result.stdout), stderr=plain(result.stderr))
        if result.interrupted:
            raise Interrupted(
                f"terraform {what} of {self.target.label} was interrupted; Terraform was "
                "asked to stop cleanly and release its state lock"
            )
        if result.returncode not in ok_codes:
            raise self._failure(result, args, what)
        return result

    def _failure(self, result: process.Completed, args: list[str], what: str) -> Exception:
        errored = keep_errored(self.target)
        if errored is not None:
            return errored
        # `state push` may say it on stdout
        lock = parse_lock_info(f"{result.stderr}\n{result.stdout}")
        if lock is not None:
            return _state_locked(self.target, lock, result.returncode)
        excerpt = _error_excerpt(result.stderr or result.stdout)
        if mirror.NO_MATCHING_RELEASE in " ".join((result.stderr or result.stdout).split()):
            return ConfigError(
                f"terraform {what} of {self.target.label} found no provider version the stack accepts:\n{excerpt}",
                hint=mirror.mismatch_hint(os.environ.get(mirror.PROVIDER_MIRROR_ENV_VAR)),
            )
        if not excerpt:  # say what ran, rather than end the message on a colon
            command = " ".join([*self.engine.argv, *(a for a in args if not a.startswith("-"))][:4])
            excerpt = f"    `{command}` printed nothing on stdout or stderr"
        return TerraformFailed(
            f"terraform {what} failed for {self.target.label} (exit {result.returncode}):\n" + excerpt,
            returncode=result.returncode,
            hint="fix the cause above and run the same command again; nothing after this step ran",
        )

    def _checked_version(self) -> str:
        """The engine's version, refused if too old (an old engine would not lock the S3 state): asked
        once per process, or not at all while the same binary's answer is in the cache."""
        if self._engine_key is None:
            return supported_version(self.engine)
        key = self.cache.version_key(self._engine_key)
        known = self.cache.load("engine-version", key)
        version = supported_version(self.engine, known if isinstance(known, str) else None)
        if known != version:
            self.cache.store("engine-version", key, version)
        return version

    def init(self) -> None:
        self._checked_version()
        args = argv.init_argv(self.target, self.endpoint)
        name = f"{self.cache.prefix}.init"
        if self._engine_key is not None:
            before = init_fingerprint(self._engine_key, args, self.target.directory, self.target.data_dir, self.env)
            if self.cache.load(name, before) is not None:
                return  # nothing init reads or writes has changed since it last succeeded
            self.cache.forget(name)
        self._run(args, what="init", stream=False)
        if self._engine_key is not None:
            mark_initialised(self.target.data_dir)
            after = init_fingerprint(self._engine_key, args, self.target.directory, self.target.data_dir, self.env)
            self.cache.store(name, after, True)

    def local_state_file(self) -> Path | None:
        """The workspace's state file on a local backend (toolkit's layout, or Terraform's own for a stack
        with no backend block), when exactly one of them exists; None otherwise."""
        if self.target.backend.type != "local":
            return None
        env = self.target.environment
        places = [
            self.target.backend_state_dir / "workspaces" / env / "terraform.tfstate",
            self.target.directory / "terraform.tfstate.d" / env / "terraform.tfstate",
        ]
        found = [p for p in places if p.is_file()]
        return found[0] if len(found) == 1 else None

    def _already_selected(self) -> bool:
        """Terraform's data folder names the workspace, whose state exists (the local file, or the S3
        object, which Terraform's S3 backend writes when it creates a workspace and removes with it):
        selecting it again would change nothing."""
        if self._engine_key is None:
            return False
        if (self.local_state_file() if self.target.backend.type == "local" else self._state_now()) is None:
            return False
        try:
            selected = (self.target.data_dir / "environment").read_text(encoding="utf-8").strip()
        except OSError:
            return False
        if selected != self.target.environment:
            return False
        self.cache.hits.append("workspace select")
        return True

    def _state_now(self) -> tuple[str, Any] | None:
        """(where, identity) of the workspace's state as it is now, without a Terraform run: a local state
        file's lineage, serial and SHA-256, or an S3 state object's head; None when it cannot be told."""
        if self.target.backend.type == "s3":
            return s3_state_identity(self.target, self.endpoint)
        state = self.local_state_file()
        identity = read_state_identity(state) if state is not None else None
        return None if identity is None else (str(state), identity)

    def _from_state(self, kind: str, read: Callable[[], Any], *, secret: Callable[[Any], bool] = bool) -> Any:
        """`read()` (a Terraform run that only reads the state), or its answer for this very state. An
        answer for which `secret` says True is never kept for a remote state, whose secrets are not on
        this machine already."""
        if self._engine_key is None or self.target.backend.type not in ("local", "s3"):
            return read()
        name = f"{self.cache.prefix}.{kind}"
        before = self._key(kind)
        if before is not None:
            known = self.cache.load(name, before)
            if known is not None:
                return known
        value = read()
        keep = self.target.backend.type == "local" or not secret(value)
        if keep and before is not None and self._key(kind) == before:  # no other writer between the looks
            self.cache.store(name, before, value)
        return value

    def _key(self, kind: str) -> str | None:
        state = self._state_now()
        if state is None:
            return None
        return self.cache.state_key(kind, self._engine_key, state[0], self.target.environment, state[1])

    def workspaces(self) -> list[str]:
        result = self._run(argv.workspace_list_argv(self.target), what="workspace list", stream=False)
        return [line.strip().lstrip("*").strip() for line in result.stdout.splitlines() if line.strip()]

    def select_existing_workspace(self) -> bool:
        """Select the environment's workspace if it exists; False, selecting nothing, if it does not.
        Selecting first and listing only when that fails takes one Terraform run, not two."""
        name = self.target.environment
        if self._already_selected():
            return True
        select = argv.workspace_select_argv(self.target)
        selected = self._run(select, what="workspace select", stream=False, ok_codes=(0, 1))
        if selected.returncode == 0:
            return True
        if name in self.workspaces():  # it exists, so the selection failed for another reason
            raise self._failure(selected, select, "workspace select")
        return False

    def selected_workspace(self) -> str:
        """The workspace Terraform has selected (`workspace show`): the state the next plan or apply
        reads, which is what a plan bundle must compare, not the name toolkit meant to select."""
        shown = self._run(argv.workspace_show_argv(self.target), what="workspace show", stream=False)
        return shown.stdout.strip()

    def select_workspace(self, *, create: bool) -> bool:
        """Select the environment's workspace; create it only if allowed. True if it was created."""
        name = self.target.environment
        if self.select_existing_workspace():
            return False
        if not create:
            raise UsageError(
                f"{self.target.label}: the workspace {name!r} does not exist",
                hint=f"create it deliberately with `toolkit env create {name}`",
            )
        self._run(argv.workspace_new_argv(self.target), what="workspace new", stream=False)
        return True

    def delete_workspace(self) -> None:
        """Drop the environment's (empty) workspace; Terraform refuses if it still tracks resources."""
        self._run(argv.workspace_select_argv(self.target, "default"), what="workspace select", stream=False)
        self._run(argv.workspace_delete_argv(self.target), what="workspace delete", stream=False)

    def plan(self, plan_file: Path, *, destroy: bool = False, refresh_only: bool = False) -> bool:
        """Write a saved plan; True if it changes anything (with refresh_only: if anything drifted)."""
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        args = argv.plan_argv(self.target, plan_file, destroy=destroy, refresh_only=refresh_only)
        result = self._run(args, what="plan", ok_codes=(0, 2))
        return result.returncode == 2

    @contextmanager
    def plan_in_background(self, plan_file: Path) -> Iterator[Callable[[], bool]]:
        """`plan(plan_file)` started now: the block gets the call that waits for it and answers as `plan`
        does (raising as it raises). A plan still running when the block ends is stopped as Ctrl-C stops
        one (Terraform releases its state lock) and reaped: no Terraform process outlives the block."""
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        self.target.data_dir.mkdir(parents=True, exist_ok=True)
        args = argv.plan_argv(self.target, plan_file)
        with (
            provider_override(self.target.directory, self.endpoint),
            process.background(
                self.engine.command(*args),
                env=self.env,
                on_line=_plain_lines(self.on_line),
                grace_seconds=self.target.grace_seconds,
            ) as running,
        ):
            yield lambda: self._checked(running.wait(), args, "plan", (0, 2)).returncode == 2

    def set_up_already(self) -> bool:
        """`init` and selecting the workspace would both run nothing (their caches answer, docs/caching.md):
        the stack can be planned with no other Terraform run first."""
        if self._engine_key is None or not self._already_selected():
            return False
        if not isinstance(self.cache.load("engine-version", self.cache.version_key(self._engine_key)), str):
            return False
        args = argv.init_argv(self.target, self.endpoint)
        known = init_fingerprint(self._engine_key, args, self.target.directory, self.target.data_dir, self.env)
        return self.cache.load(f"{self.cache.prefix}.init", known) is not None

    def kept_outputs(self) -> dict[str, Output] | None:
        """The outputs `outputs()` would give for the state as it is now, from the cache alone; None when
        only a Terraform run could tell."""
        if self._engine_key is None or self.target.backend.type not in ("local", "s3"):
            return None
        key = self._key("outputs")
        known = None if key is None else self.cache.load(f"{self.cache.prefix}.outputs", key)
        return None if known is None else parse_outputs(known)

    def apply(self, plan_file: Path) -> None:
        self._run(argv.apply_argv(self.target, plan_file), what="apply")

    def show_plan(self, plan_file: Path) -> dict:
        result = self._run(argv.show_plan_argv(self.target, plan_file), what="show", stream=False)
        return json.loads(result.stdout)

    def outputs(self) -> dict[str, Output]:
        return parse_outputs(self._from_state("outputs", self._read_outputs, secret=_has_sensitive))

    def _read_outputs(self) -> dict:
        # never streamed: it holds sensitive values
        result = self._run(argv.output_argv(self.target), what="output", stream=False)
        try:
            raw = json.loads(result.stdout or "{}")
        except ValueError as exc:
            raise TerraformFailed(f"terraform output -json for {self.target.label} is not JSON", returncode=1) from exc
        if not isinstance(raw, dict):
            raise TerraformFailed(f"terraform output -json for {self.target.label} is not an object", returncode=1)
        return raw

    def state_identity(self) -> tuple[str | None, int]:
        """(lineage, serial) of the workspace's current state; (None, 0) when it has none yet."""
        result = self._run(argv.state_pull_argv(self.target), what="state pull", stream=False)
        if not result.stdout.strip():
            return None, 0
        try:
            state = json.loads(result.stdout)
        except ValueError as exc:
            raise TerraformFailed(f"the state of {self.target.label} is not JSON", returncode=1) from exc
        return state.get("lineage"), int(state.get("serial", 0))

    def push_state(self, state_file: Path) -> None:
        self._run([self.target.chdir, "state", "push", str(state_file)], what="state push")

    def force_unlock(self, lock_id: str) -> None:
        self._run(argv.force_unlock_argv(self.target, lock_id), what="force-unlock")

    def state_resources(self) -> int:
        def count() -> int:
            result = self._run(argv.state_list_argv(self.target), what="state list", stream=False)
            return len([line for line in result.stdout.splitlines() if line.strip()])

        return int(self._from_state("resources", count, secret=lambda _count: False))


def _has_sensitive(raw: dict) -> bool:
    return any(isinstance(o, dict) and o.get("sensitive") for o in raw.values())


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str = "?"
    created: str = "?"
    operation: str = "?"
    path: str = "?"


_LOCK_FIELD = re.compile(r"^\W*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$")


def parse_lock_info(stderr: str) -> LockInfo | None:
    """The 'Lock Info' block Terraform prints when it could not acquire the state lock."""
    if "Error acquiring the state lock" not in stderr:
        return None
    fields = {}
    for line in stderr.splitlines():
        match = _LOCK_FIELD.match(line)
        if match and match[1] not in fields:
            fields[match[1]] = match[2]
    if "ID" not in fields:
        return None
    return LockInfo(
        id=fields["ID"],
        who=fields.get("Who", "?"),
        created=fields.get("Created", "?"),
        operation=fields.get("Operation", "?").removeprefix("OperationType").lower(),
        path=fields.get("Path", "?"),
    )


def _state_locked(target: StackTarget, lock: LockInfo, returncode: int) -> StateLocked:
    return StateLocked(
        f"the state of {target.label} is locked by {lock.who} since {lock.created} "
        f"(operation {lock.operation}, lock ID {lock.id}, {lock.path}); waited {target.lock_timeout}",
        lock_id=lock.id,
        returncode=returncode,
        hint="wait for that run to finish; only if it is dead, release the lock with: "
        f"toolkit env force-unlock {target.environment} --stack {target.stack} {lock.id}",
    )


def _plain_lines(sink: LineSink | None) -> LineSink | None:
    """`sink`, seeing each streamed line without terminal control sequences."""
    if sink is None:
        return None
    return lambda stream, line: sink(stream, plain(line))


def _error_excerpt(text: str, limit: int = 40) -> str:
    """The `Error:` blocks of Terraform's output (or its last lines), indented (`_run` has already
    removed terminal control sequences, `support/terminal.py:plain`)."""
    lines = [line.rstrip() for line in plain(text).splitlines()]
    start = next((i for i, line in enumerate(lines) if "Error:" in line), max(0, len(lines) - limit))
    excerpt = [line for line in lines[start : start + limit] if line.strip()]
    return mask("\n".join(f"    {line.lstrip('│╷╵ ')}" for line in excerpt))
