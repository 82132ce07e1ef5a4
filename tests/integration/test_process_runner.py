"""The one subprocess runner: streaming, capture, exit codes, and signal forwarding with real processes."""

from __future__ import annotations

import os
import signal
import sys
import threading

from toolkit import process

TRAPS_SIGINT = """
import signal, sys, time
count = 0
def handler(signum, frame):
    global count
    count += 1
    print(f"got SIGINT #{count}", flush=True)
signal.signal(signal.SIGINT, handler)
print("ready", flush=True)
deadline = time.time() + 10
while count == 0 and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.3)  # a second forwarded SIGINT would show up here
sys.exit(3)
"""

IGNORES_SIGINT = """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(30)
"""


def interrupt_self_after(seconds: float) -> None:
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT)).start()


def test_streams_and_captures_both_streams_and_keeps_the_exit_code():
    lines = []
    result = process.run(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(7)"],
        env=dict(os.environ),
        on_line=lambda stream, line: lines.append((stream, line)),
    )
    assert result.returncode == 7 and result.stdout == "out\n" and result.stderr == "err\n"
    assert sorted(lines) == [("stderr", "err"), ("stdout", "out")]
    assert not result.interrupted


def test_only_the_given_environment_reaches_the_child():
    result = process.run(
        [sys.executable, "-c", "import os; print(os.environ.get('ONLY_HERE'), os.environ.get('HOME'))"],
        env={"ONLY_HERE": "yes", "PATH": os.environ["PATH"]},
    )
    assert result.stdout.strip() == "yes None"


def test_sigint_is_forwarded_once_and_the_child_finishes_cleanly():
    interrupt_self_after(1.0)
    result = process.run([sys.executable, "-c", TRAPS_SIGINT], env=dict(os.environ), grace_seconds=20)
    assert result.interrupted
    assert result.returncode == 3  # the child shut down on its own terms
    assert result.stdout.count("got SIGINT") == 1


def test_a_child_that_ignores_sigint_is_terminated_after_the_grace_period():
    interrupt_self_after(1.0)
    result = process.run([sys.executable, "-c", IGNORES_SIGINT], env=dict(os.environ), grace_seconds=0.5)
    assert result.interrupted
    assert result.returncode == -signal.SIGTERM
    assert result.seconds < 10


def test_a_missing_executable_is_a_clear_engine_error():
    import pytest

    from toolkit.errors import EngineError

    with pytest.raises(EngineError, match="cannot start /no/such/terraform"):
        process.run(["/no/such/terraform", "version"], env={})
