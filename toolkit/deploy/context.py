"""What every verb needs: the project, the engine choice, an optional AWS endpoint, a reporter, and the
stacks of an environment built from them."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from toolkit.deploy.paths import StatePaths
from toolkit.project.model import Environment, Project
from toolkit.support.reporting import Reporter, SilentReporter
from toolkit.terraform.argv import StackTarget
from toolkit.terraform.engine import Engine, resolve_engine
from toolkit.terraform.mirror import PROVIDER_MIRROR_ENV_VAR, write_mirror_config
from toolkit.terraform.stack import Stack


@dataclass
class Context:
    project: Project
    engine_choice: str | None = None
    endpoint: str | None = None  # a local AWS endpoint (moto server, LocalStack) for every AWS call
    reporter: Reporter = field(default_factory=SilentReporter)
    emulator: bool = False  # --emulator: the endpoint is toolkit's own moto, which env up prepares

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
            var_files=self.var_files(env),
            lock_timeout=self.project.terraform.lock_timeout,
            grace_seconds=self.project.terraform.grace_seconds,
        )

    def var_files(self, env: Environment) -> tuple[Path, ...]:
        """The environment's var files, and in emulator mode the emulated network's ids after them (the
        var files name a VPC and subnets of a real account, which the emulator does not have)."""
        network = self.paths.emulator_network(env.name)
        return (*env.var_files, network) if self.endpoint and network.is_file() else env.var_files

    def stack(self, env: Environment, name: str, inputs: Path | None = None) -> Stack:
        """A stack of the environment; `inputs` is an extra var file (injected values) applied last."""
        target = self.target(env, name)
        if inputs is not None:
            target = replace(target, var_files=(*target.var_files, inputs))
        lines = TerraformLines(self.reporter, name, self.project.terraform.lock_timeout)
        return Stack(self.engine, target, on_line=lines, endpoint=self.endpoint, extra_env=self._aws_env())

    def _aws_env(self) -> dict[str, str]:
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
