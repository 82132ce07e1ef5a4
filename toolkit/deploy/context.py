"""What every verb needs: the project, the engine choice, an optional AWS endpoint, a reporter, and the
stacks of an environment built from them."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from toolkit.deploy.paths import StatePaths
from toolkit.project.model import Database, Environment, Project
from toolkit.support.reporting import Reporter, SilentReporter
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.engine import Engine, resolve_engine
from toolkit.terraform.stack import Stack


@dataclass
class Context:
    project: Project
    engine_choice: str | None = None
    endpoint: str | None = None  # a local AWS endpoint (moto server, LocalStack) for every AWS call
    reporter: Reporter = field(default_factory=SilentReporter)
    database: str | None = None  # the database the migration steps work on (None: the project's first)

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
        return resolve_engine(self.engine_choice, configured=self.project.terraform.engine)

    @cached_property
    def paths(self) -> StatePaths:
        return StatePaths(self.project.state_dir)

    def target(self, env: Environment, name: str) -> StackTarget:
        """Which state one stack of the environment reads and writes, and how Terraform is run for it."""
        return StackTarget(
            stack=name,
            directory=env.stack_dir(name),
            environment=env.name,
            data_dir=self.paths.terraform_data(env.name, name),
            backend=env.backend,
            backend_state_dir=self.paths.local_backend(name),
            var_files=env.var_files,
            lock_timeout=self.project.terraform.lock_timeout,
            grace_seconds=self.project.terraform.grace_seconds,
        )

    def stack(self, env: Environment, name: str, inputs: Path | None = None) -> Stack:
        """A stack of the environment; `inputs` is an extra var file (injected values) applied last."""
        target = self.target(env, name)
        if inputs is not None:
            target = replace(target, var_files=(*target.var_files, inputs))
        lines = TerraformLines(self.reporter, name, self.project.terraform.lock_timeout)
        return Stack(self.engine, target, on_line=lines, endpoint=self.endpoint, extra_env=self._aws_env())

    def _aws_env(self) -> dict[str, str]:
        if not self.endpoint:
            return {}
        # The AWS provider and the S3 backend both honour these when pointed at an emulator.
        return {"AWS_ENDPOINT_URL": self.endpoint}


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
