"""The first two stacks' plans of `env up`, started as the run begins instead of each at its turn: while the
run validates, renders and migrates, Terraform plans (the two states are separate, so neither plan waits
for the other's lock). A plan made early is used only when it is exactly the plan the run would have made
at that stack's turn; otherwise it is stopped, its saved plan removed, and the stack planned again. A
plan only reads, so one made before a validation that then fails has changed nothing: it is stopped, and
nothing of it is shown.

A plan reads the stack's files and var files, what toolkit injects (the first stack's outputs, the
rendered pipelines folder, folders, an ephemeral expiry), the files rendered into that folder, its own
state, and, refreshing, whatever its providers can see. So it is started only when all of that is known
without doing any work first: for the second stack, the first stack's outputs for its state as it is now
are in the cache; rendering with them would reuse the last render (nothing written); the stack is
initialised with its workspace selected (no other Terraform run). It is kept only when, at its turn, no
stack before it applied anything, this run changed nothing else (no lifecycle record written, no
migration applied: a refresh may read the database), the outputs, the injected values and the render are
those the plan was made with. The kept plan is applied, if it changes anything, at the stack's own step:
after validation (and, for the second stack, after the migrations), as ever. Its output is held back
until then, and a plan that is dropped is never shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.deploy.context import Context
from toolkit.deploy.injected import injected_values
from toolkit.deploy.progress import Progress, ResourceWatcher
from toolkit.deploy.stacks import StackOutcome, apply_planned, open_stack, renders_pipelines, saved_plan
from toolkit.errors import ToolkitError
from toolkit.project.model import Environment
from toolkit.support.log import get_logger
from toolkit.terraform.outputs import Output
from toolkit.terraform.stack import LineSink, Stack

if TYPE_CHECKING:  # rendering is imported only for a stack that reads rendered pipelines
    from toolkit.pipelines.rendering import RenderResult

log = get_logger(__name__)


class HeldLines:
    """A background plan's lines, held until its step is shown, then passed on in order as they come."""

    def __init__(self) -> None:
        self.held: list[tuple[str, str]] = []
        self._sink: LineSink | None = None
        self._lock = threading.Lock()

    def __call__(self, stream: str, line: str) -> None:
        with self._lock:
            if self._sink is None:
                self.held.append((stream, line))
                return
        self._sink(stream, line)

    def release(self, sink: LineSink | None) -> None:
        with self._lock:  # the lines held so far go first: a line arriving meanwhile waits for them
            for stream, line in self.held:
                if sink is not None:
                    sink(stream, line)
            self.held.clear()
            self._sink = sink or (lambda _stream, _line: None)


@dataclass
class EarlyPlan:
    """A stack's plan made early, running, and what it was made from."""

    stack_name: str
    after: str | None  # the stack before it, whose outputs it got (None: the first stack)
    upstream: dict[str, Output]  # the outputs of `after` it got (none for the first stack)
    injected: dict[str, object]  # every value toolkit injected
    render: RenderResult | None  # the render it read, if the stack reads one
    changed_before: int  # entries of `progress.changed` when it started
    stack: Stack
    plan_file: Path
    wait: Callable[[], bool]  # waits for the plan: True if it changes anything (raising as `Stack.plan`)
    lines: HeldLines
    original_sink: LineSink | None  # where the stack's lines go once its step is shown
    _running: ExitStack = field(default_factory=ExitStack)  # the plan's process and its emulator override
    _cleanup: ExitStack = field(default_factory=ExitStack)  # all of it: those, the saved plan, injected values

    def apply_if_same(
        self,
        ctx: Context,
        env: Environment,
        progress: Progress,
        outcomes: list[StackOutcome],
        outputs_by_stack: Mapping[str, Mapping[str, Output]],
        render: RenderResult | None,
        watcher: ResourceWatcher,
    ) -> tuple[StackOutcome, dict[str, Output]] | None:
        """At the stack's step: if its plan now would read what this one read, this plan waited for (its
        output shown) and applied if it changes anything; None if not, this plan stopped and removed."""
        try:
            if not self._same_inputs(ctx, env, progress, outcomes, outputs_by_stack, render):
                log.debug("dropped the plan of %s made early: its inputs changed", self.stack_name)
                return None
            self.stack.on_line = self.original_sink
            self.lines.release(self.original_sink)
            changed = self.wait()
            self._running.close()  # the plan's own hold (the emulator override) let go before its apply takes it
            when = f"alongside {self.after}" if self.after else "while the run validated"
            ctx.reporter.note(f"{self.stack_name}: planned {when}, from the same inputs")
            watcher.watch(self.stack)
            return apply_planned(ctx, env, self.stack, self.plan_file, changed)
        finally:
            self.close()

    def _same_inputs(self, ctx, env, progress, outcomes, outputs_by_stack, render) -> bool:
        if any(outcome.changed for outcome in outcomes) or len(progress.changed) != self.changed_before:
            return False  # something was applied: a refresh may see it
        outputs = dict(outputs_by_stack.get(self.after, {}))  # the first stack's: none
        if outputs != self.upstream:
            return False
        if self.render is not None and (render is None or render.changed or _files(render) != _files(self.render)):
            return False
        return injected_values(ctx, env, self.stack_name, outputs) == self.injected

    def close(self) -> None:
        """Stop the plan if it still runs, remove its saved plan and its injected values."""
        self._cleanup.close()


def _files(render: RenderResult) -> list[tuple[str, str, str, str, str]]:
    return sorted((f.name, f.kind, f.file, f.fingerprint, f.sha256) for f in render.files)


@contextmanager
def early_plans(ctx: Context, env: Environment, progress: Progress) -> Iterator[dict[str, EarlyPlan]]:
    """The plans of the first two stacks started now, each when it can be (stack name -> its plan); the
    run takes each out at its stack's turn, and whatever is left is stopped and removed when the block ends."""
    plans: dict[str, EarlyPlan] = {}
    try:
        order = ctx.project.stack_order
        if ctx.caching:
            for after, stack_name in zip((None, *order[:1]), order[:2], strict=False):
                started = _start(ctx, env, progress, stack_name, after)
                if started is not None:
                    plans[stack_name] = started
        yield plans
    finally:
        for plan in plans.values():
            plan.close()


def _start(ctx: Context, env: Environment, progress: Progress, stack_name: str, after: str | None) -> EarlyPlan | None:
    if after is not None and env.stack_dir(after).resolve() == env.stack_dir(stack_name).resolve():
        return None  # one folder: an emulator override or a lock of one run would be seen by the other
    try:
        upstream: dict[str, Output] = {}
        if after is not None:
            kept = ctx.stack(env, after).kept_outputs()
            if kept is None:
                return None
            upstream = dict(kept)
        render = None
        if renders_pipelines(env, stack_name):
            from toolkit.deploy.rendering import kept_render

            render = kept_render(ctx, env, {after: upstream} if after else {})
            if render is None:
                return None
        if not ctx.stack(env, stack_name).set_up_already():
            return None
        with ExitStack() as cleanup:
            stack, _ = cleanup.enter_context(open_stack(ctx, env, stack_name, upstream, create=False))
            plan_file = cleanup.enter_context(saved_plan(ctx, env, stack_name, "up"))
            original, lines = stack.on_line, HeldLines()
            stack.on_line = lines
            running = cleanup.enter_context(ExitStack())
            wait = running.enter_context(stack.plan_in_background(plan_file))
            speculation = EarlyPlan(
                stack_name=stack_name,
                after=after,
                upstream=upstream,
                injected=injected_values(ctx, env, stack_name, upstream),
                render=render,
                changed_before=len(progress.changed),
                stack=stack,
                plan_file=plan_file,
                wait=wait,
                lines=lines,
                original_sink=original,
            )
            speculation._running, speculation._cleanup = running, cleanup.pop_all()
            return speculation
    except ToolkitError as exc:  # the stack's own step meets it again at its turn, and reports it there
        log.debug("the plan of %s is not started early: %s", stack_name, exc)
        return None
