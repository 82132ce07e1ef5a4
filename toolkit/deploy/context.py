"""What every verb needs: the project, the engine choice, an optional AWS endpoint, a reporter, and the
stacks of an environment built from them."""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.deploy.paths import StatePaths, private
from toolkit.project.model import Database, Environment, Project
from toolkit.support.reporting import Reporter, SilentReporter

if TYPE_CHECKING:  # what a stack needs is imported when one is made: `pipelines validate` makes none
    from toolkit.state.protection import ProtectionRecord
    from toolkit.state.store import RecordStore
    from toolkit.terraform.argv import StackTarget
    from toolkit.terraform.engine import Engine
    from toolkit.terraform.stack import Stack


@dataclass
class Context:
    project: Project
    engine_choice: str | None = None
    endpoint: str | None = None  # a local AWS endpoint (moto server, LocalStack) for every AWS call
    reporter: Reporter = field(default_factory=SilentReporter)
    protection_checked: set = field(default_factory=set, repr=False)  # env names; (env, stack): local state
    no_cache: bool = False  # --no-cache; TOOLKIT_NO_CACHE=1 turns the caches off too
    emulator: bool = False  # --emulator: the endpoint is toolkit's own moto, which env up prepares
    database: str | None = None  # the database the migration steps work on (None: the project's first)

    @property
    def caching(self) -> bool:
        return not self.no_cache and os.environ.get("TOOLKIT_NO_CACHE", "") in ("", "0")

    def cache_file(self, name: str) -> Path | None:
        """Where the cache `name` lives under the state folder, or None when caches are off."""
        return self.paths.cache(name) if self.caching else None

    def for_database(self, database: Database) -> Context:
        """This context scoped to one of the project's databases: its folder and settings are what
        `project.sql_dir` and `project.migrations` say, and its entry of the outputs is the one connected to."""
        scoped = copy.copy(self)  # keeps the resolved engine and paths
        scoped.project = replace(self.project, sql_dir=database.sql_dir, migrations=database.settings)
        scoped.database = database.name
        return scoped

    @property
    def current_database(self) -> Database:
        return self.project.database(self.database) if self.database else self.project.databases[0]

    @cached_property
    def engine(self) -> Engine:
        from toolkit.terraform.engine import resolve_engine

        return resolve_engine(self.engine_choice, configured=self.project.terraform.engine)

    @cached_property
    def paths(self) -> StatePaths:
        return StatePaths(private(self.project.state_dir))

    def target(self, env: Environment, name: str) -> StackTarget:
        """Which state one stack of the environment reads and writes, and how Terraform is run for it."""
        from toolkit.terraform.argv import StackTarget

        return StackTarget(
            stack=name,
            directory=env.stack_dir(name),
            environment=env.name,
            data_dir=self.paths.terraform_data(env.name, name),
            backend=env.backend,
            backend_state_dir=self.paths.local_backend(name),
            var_files=self.var_files(env),
            lock_timeout=self.project.terraform.lock_timeout,
            grace_seconds=self.project.terraform.grace_seconds,
        )

    def var_files(self, env: Environment) -> tuple[Path, ...]:
        """The environment's var files, and in emulator mode the emulated network's ids after them (the
        var files name a VPC and subnets of a real account, which the emulator does not have)."""
        network = self.paths.emulator_network(env.name)
        return (*env.var_files, network) if self.endpoint and network.is_file() else env.var_files

    def as_terraform_sees(self, env: Environment) -> Environment:
        """The environment with the var files Terraform gets (`var_files`): what values(ENV) reads, so
        `values`, rendering and placeholders show the emulated network's ids in emulator mode, as applied."""
        files = self.var_files(env)
        return env if files == env.var_files else replace(env, var_files=files)

    def stack(self, env: Environment, name: str, inputs: Path | None = None, *, recovering: bool = False) -> Stack:
        """A stack of the environment; `inputs` is an extra var file (injected values) applied last. Refused
        while a state Terraform could not save waits to be pushed (`recovering`: push-state and
        force-unlock, which resolve it)."""
        from toolkit.deploy.local_state import refuse_broken_state
        from toolkit.deploy.protection import refuse_disagreement
        from toolkit.terraform.engine import passed_by_name
        from toolkit.terraform.errored import refuse_errored
        from toolkit.terraform.stack import Stack

        if env.name not in self.protection_checked:  # once per environment and process
            refuse_disagreement(self.protection(env), env, self.reporter)
            self.protection_checked.add(env.name)
        target = self.target(env, name)
        if not recovering:
            refuse_errored(target)
            if (env.name, name) not in self.protection_checked:
                refuse_broken_state(target, env, self.paths)
                self.protection_checked.add((env.name, name))
        if inputs is not None:
            target = replace(target, var_files=(*target.var_files, inputs))
        lines = TerraformLines(self.reporter, name, self.project.terraform.lock_timeout)
        passed = passed_by_name(self.project.terraform.pass_env, os.environ)
        return Stack(
            self.engine,
            target,
            on_line=lines,
            endpoint=self.endpoint,
            extra_env=passed | self._aws_env(),
            cache_folder=self.cache_file("terraform"),
        )

    def protection(self, env: Environment) -> RecordStore[ProtectionRecord]:
        """The environment's protection record beside its state (deploy/protection.py)."""
        from toolkit.deploy.protection import protection_store
        from toolkit.state.protection import KIND as PROTECTION

        return protection_store(env, self.paths.records(PROTECTION), self.endpoint)

    def _aws_env(self) -> dict[str, str]:
        from toolkit.terraform.mirror import PROVIDER_MIRROR_ENV_VAR, write_mirror_config

        extra = {}
        mirror = os.environ.get(PROVIDER_MIRROR_ENV_VAR)
        if mirror:  # the AWS provider from a filesystem mirror instead of the registry
            extra["TF_CLI_CONFIG_FILE"] = str(write_mirror_config(self.paths.mirror_config(), Path(mirror)))
        if self.endpoint:
            # The AWS provider and the S3 backend both honour these when pointed at an emulator.
            extra["AWS_ENDPOINT_URL"] = self.endpoint
        return extra


class TerraformLines:
    """Terraform's streamed lines as progress details; and, since Terraform says nothing while it queues
    for a state lock another run holds, a note when it has been quiet for a while after asking for one."""

    QUIET_SECONDS = 5.0

    def __init__(self, reporter: Reporter, stack: str, lock_timeout: str) -> None:
        self.reporter, self.stack, self.lock_timeout = reporter, stack, lock_timeout
        self._timer: threading.Timer | None = None

    def __call__(self, _stream: str, line: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not line.strip():
            return
        self.reporter.detail(line)
        if "Acquiring state lock" in line:
            self._timer = threading.Timer(self.QUIET_SECONDS, self._waiting)
            self._timer.daemon = True
            self._timer.start()

    def _waiting(self) -> None:
        self.reporter.note(
            f"{self.stack}: waiting for the state lock, which another run may hold (Terraform waits up to "
            f"{self.lock_timeout}: [terraform].lock_timeout or TOOLKIT_LOCK_TIMEOUT)"
        )
