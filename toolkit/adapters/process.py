"""The one subprocess runner: argv lists, an explicit environment, output streamed and captured at once.

Ctrl-C and SIGTERM are forwarded to the child as a single SIGINT (the child runs in its own session so
the terminal's own SIGINT does not reach it twice, which Terraform would take as "abort now, leave the
lock"). Further signals are noted, not forwarded: CI runners follow SIGINT with SIGTERM within seconds
(GitHub Actions after 7.5 s) and must not turn a clean stop into an abort. Only if the child is still
running when the grace period ends does it get SIGTERM, and SIGKILL KILL_AFTER seconds later.

`background` runs a child while the caller does other work and waits for it later; a child not waited for
when its block ends (an error, Ctrl-C) is stopped the same way and reaped, so none outlives the block.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import EngineError
from toolkit.support.log import get_logger

if TYPE_CHECKING:
    import subprocess

log = get_logger(__name__)

LineSink = Callable[[str, str], None]  # (stream name "stdout"|"stderr", line without newline)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DEFAULT_GRACE_SECONDS = 30.0
KILL_AFTER = 10.0  # seconds between the escalating SIGTERM and SIGKILL


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    interrupted: bool = False  # a stop signal arrived while this ran (the child may still have finished)
    seconds: float = 0.0


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    on_line: LineSink | None = None,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> Completed:
    """Run argv to completion; `on_line` sees every line as it arrives (stdout and stderr)."""
    started = time.monotonic()
    captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
    with _Stopper(grace_seconds) as stopper:
        if stopper.signalled:  # asked to stop before anything started: start nothing
            return Completed(tuple(argv), 128 + signal.SIGINT, "", "", True, time.monotonic() - started)
        child = _spawn(argv, env, cwd)
        stopper.attach(child)
        readers = _read(child, captured, on_line)
        _reap(child, readers)
    return _completed(argv, child, captured, stopper.signalled, started)


class Running:
    """A child of `background`: `wait()` for what `run` would have returned."""

    def __init__(self, argv: Sequence[str], grace_seconds: float) -> None:
        self.argv = tuple(argv)
        self.grace_seconds = grace_seconds
        self._started = time.monotonic()
        self._child: subprocess.Popen | None = None
        self._readers: list[threading.Thread] = []
        self._captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._completed: Completed | None = None

    def _start(self, env: Mapping[str, str], cwd: Path | None, on_line: LineSink | None) -> None:
        # Not with stop signals blocked: the child would inherit the mask and never see the SIGINT.
        self._child = _spawn(self.argv, env, cwd)
        self._readers = _read(self._child, self._captured, on_line)

    def wait(self) -> Completed:
        """Wait for the child to exit; a stop signal meanwhile reaches it as it would under `run`."""
        self._finish(stop=False)
        assert self._completed is not None
        return self._completed

    def stop(self) -> None:
        """Ask the child to stop, as a stop signal would (SIGINT, then SIGTERM and SIGKILL on timers), and
        wait for it; a child that already exited is only reaped."""
        self._finish(stop=True)

    def _finish(self, *, stop: bool) -> None:
        if self._completed is None and self._child is not None:
            with _Stopper(self.grace_seconds) as stopper:
                stopper.attach(self._child)
                if stop and self._child.poll() is None:
                    stopper.stop()
                _reap(self._child, self._readers)
            self._completed = _completed(self.argv, self._child, self._captured, stopper.signalled, self._started)


@contextlib.contextmanager
def background(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    on_line: LineSink | None = None,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> Iterator[Running]:
    """argv started now and waited for later in the block (`Running.wait`), while the caller does other
    work; `on_line` sees each line from the reader threads. A child still running when the block ends is
    stopped (`Running.stop`) and reaped there."""
    running = Running(argv, grace_seconds)
    try:
        running._start(env, cwd, on_line)
        yield running
    finally:
        running.stop()


def _spawn(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None) -> subprocess.Popen:
    import subprocess  # here: a run that starts no process (every answer cached) does not import it

    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise EngineError(
            f"cannot start {argv[0]}: {exc.strerror or exc}",
            hint="check the path and that the file is executable",
        ) from exc


def _read(child: subprocess.Popen, captured: dict[str, list[str]], on_line: LineSink | None) -> list[threading.Thread]:
    readers = [
        threading.Thread(target=_pump, args=(stream, name, captured[name], on_line), daemon=True)
        for stream, name in ((child.stdout, "stdout"), (child.stderr, "stderr"))
    ]
    for reader in readers:
        reader.start()
    return readers


def _reap(child: subprocess.Popen, readers: list[threading.Thread]) -> None:
    # A blocking wait: it returns the moment the child exits (a timed wait polls, and sleeps up to
    # 50 ms past the exit); signal handlers still run in between, as waitpid is retried after them.
    child.wait()
    for reader in readers:
        reader.join()


def _completed(
    argv: Sequence[str], child: subprocess.Popen, captured: dict[str, list[str]], interrupted: bool, started: float
) -> Completed:
    return Completed(
        argv=tuple(argv),
        returncode=child.returncode,
        stdout="".join(captured["stdout"]),
        stderr="".join(captured["stderr"]),
        interrupted=interrupted,
        seconds=time.monotonic() - started,
    )


def _pump(stream, name: str, sink: list[str], on_line: LineSink | None) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            sink.append(text)
            if on_line is not None:
                on_line(name, text.rstrip("\r\n"))


class _Stopper:
    """While a child runs: SIGINT/SIGTERM to us become one SIGINT to it, then SIGTERM and SIGKILL on timers.

    Handlers can only be installed from the main thread; elsewhere the child is simply waited for.
    """

    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self.child: subprocess.Popen | None = None
        self.signalled = False
        self._forwarded = False
        self._timers: list[threading.Timer] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Stopper:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *_exc) -> None:
        for timer in self._timers:
            timer.cancel()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def attach(self, child: subprocess.Popen) -> None:
        # Blocked so that a signal cannot land between "the child is known" and "was it already asked
        # to stop": it is forwarded exactly once, here or in the handler.
        with _blocked(self._previous):
            self.child = child
            if self.signalled:
                self._forward()

    def _on_signal(self, signum: int, _frame) -> None:
        name = signal.Signals(signum).name
        if self._forwarded:
            log.warning("received %s again: still waiting for the child to stop cleanly", name)
            return
        self.signalled = True
        if self.child is not None:
            log.warning("received %s: asking the child to stop cleanly (SIGINT)", name)
            self._forward()

    def stop(self) -> None:
        """What a first stop signal does, asked for by the caller."""
        with _blocked(self._previous):
            self.signalled = True
            if not self._forwarded:
                self._forward()

    def _forward(self) -> None:
        self._forwarded = True
        _send(self.child, signal.SIGINT)
        self._after(self.grace_seconds, self._terminate)

    def _terminate(self) -> None:
        if self.child.poll() is None:
            log.warning("child still running %.0fs after SIGINT: sending SIGTERM", self.grace_seconds)
            _send(self.child, signal.SIGTERM)
            self._after(KILL_AFTER, self._kill)

    def _kill(self) -> None:
        if self.child.poll() is None:
            log.warning("child still running %.0fs after SIGTERM: sending SIGKILL", KILL_AFTER)
            _send(self.child, signal.SIGKILL)

    def _after(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()


@contextlib.contextmanager
def _blocked(handled: Mapping[int, object]) -> Iterator[None]:
    if not handled:
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _send(child: subprocess.Popen, sig: signal.Signals) -> None:
    # Popen.send_signal does nothing once the child has been reaped, so a recycled pid is never hit.
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(sig)
