"""The one subprocess runner: argv lists, an explicit environment, output streamed and captured at once.

Ctrl-C and SIGTERM are forwarded to the child as a single SIGINT (the child runs in its own session so
the terminal's own SIGINT does not reach it twice, which Terraform would take as "abort now, leave the
lock"); if the child is still running after a grace period it gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import EngineError

log = logging.getLogger(__name__)

LineSink = Callable[[str, str], None]  # (stream name "stdout"|"stderr", line without newline)


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    interrupted: bool = False
    seconds: float = 0.0


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    on_line: LineSink | None = None,
    grace_seconds: float = 30.0,
) -> Completed:
    """Run argv to completion; `on_line` sees every line as it arrives (stdout and stderr)."""
    started = time.monotonic()
    try:
        child = subprocess.Popen(
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
    captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
    readers = [
        threading.Thread(target=_pump, args=(stream, name, captured[name], on_line), daemon=True)
        for stream, name in ((child.stdout, "stdout"), (child.stderr, "stderr"))
    ]
    for reader in readers:
        reader.start()
    interrupted = _wait_forwarding_signals(child, grace_seconds)
    for reader in readers:
        reader.join()
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


def _wait_forwarding_signals(child: subprocess.Popen, grace_seconds: float) -> bool:
    """Wait for the child; forward SIGINT/SIGTERM once as SIGINT, escalate after the grace period."""
    if threading.current_thread() is not threading.main_thread():
        child.wait()
        return False
    state = {"interrupted_at": None}

    def forward(signum, _frame):
        if state["interrupted_at"] is None:
            state["interrupted_at"] = time.monotonic()
            log.warning("received %s: asking the child to stop cleanly (SIGINT)", signal.Signals(signum).name)
            _send(child, signal.SIGINT)
        else:
            log.warning("second signal: terminating the child now")
            _send(child, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                since = state["interrupted_at"]
                if since is not None and time.monotonic() - since > grace_seconds:
                    log.warning("child still running %.0fs after SIGINT: sending SIGTERM", grace_seconds)
                    _send(child, signal.SIGTERM)
                    try:
                        child.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        _send(child, signal.SIGKILL)
                        child.wait()
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return state["interrupted_at"] is not None


def _send(child: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, sig)
