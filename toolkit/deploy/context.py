"""What every verb needs: the project, the engine choice, an optional AWS endpoint, a reporter, and the
stacks of an environment built from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from toolkit.deploy.paths import StatePaths
from toolkit.project.model import Environment, Project
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
        return Stack(
            self.engine, target, on_line=self._terraform_line, endpoint=self.endpoint, extra_env=self._aws_env()
        )

    def _terraform_line(self, _stream: str, line: str) -> None:
        if line.strip():
            self.reporter.detail(line)

    def _aws_env(self) -> dict[str, str]:
        if not self.endpoint:
            return {}
        # The AWS provider and the S3 backend both honour these when pointed at an emulator.
        return {"AWS_ENDPOINT_URL": self.endpoint}
