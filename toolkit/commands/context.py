"""What every command needs: the project, the engine choice, an optional AWS endpoint, a reporter."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from toolkit.config import Environment, Project
from toolkit.reporting import Reporter, SilentReporter
from toolkit.terraform.engine import Engine, resolve_engine
from toolkit.terraform.stack import Stack, StackTarget


@dataclass
class Context:
    project: Project
    engine_choice: str | None = None
    endpoint: str | None = None  # a local AWS endpoint (moto server, LocalStack) for every AWS call
    reporter: Reporter = field(default_factory=SilentReporter)

    @cached_property
    def engine(self) -> Engine:
        return resolve_engine(self.engine_choice, configured=self.project.terraform.engine)

    def stack(self, env: Environment, name: str, inputs: Path | None = None) -> Stack:
        """A stack of the environment; `inputs` is an extra var file (injected values) applied last."""
        target = StackTarget.of(self.project, env, name)
        if inputs is not None:
            target = replace(target, var_files=(*target.var_files, inputs))
        return Stack(
            self.engine,
            target,
            on_line=self._terraform_line,
            endpoint=self.endpoint,
            extra_env=self._aws_env(),
        )

    def _terraform_line(self, _stream: str, line: str) -> None:
        if line.strip():
            self.reporter.detail(line)

    def _aws_env(self) -> dict[str, str]:
        if not self.endpoint:
            return {}
        # The AWS provider and the S3 backend both honour these when pointed at an emulator.
        return {"AWS_ENDPOINT_URL": self.endpoint}
