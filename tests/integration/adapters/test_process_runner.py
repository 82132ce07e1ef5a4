"""The one subprocess runner: streaming, capture, exit codes, and signal forwarding with real processes."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from toolkit.adapters import process

pytestmark = pytest.mark.slow

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
    from toolkit.errors import EngineError

    with pytest.raises(EngineError, match="cannot start /no/such/terraform"):
        process.run(["/no/such/terraform", "version"], env={})


TRAPS_BOTH = """
import signal, sys, time
seen = []
def handler(signum, frame):
    seen.append(signum)
    print(f"got {signal.Signals(signum).name}", flush=True)
signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
print("ready", flush=True)
deadline = time.time() + 10
while not seen and time.time() < deadline:
    time.sleep(0.02)
time.sleep(2.5)  # stopping cleanly takes a while; signals to toolkit meanwhile must not reach us
sys.exit(3)
"""


@pytest.fixture
def survives_sigterm():
    """SIGTERM sent to the test process itself must never end the test run, whatever the runner does."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    yield
    signal.signal(signal.SIGTERM, previous)


def signal_self_at(*moments: tuple[float, signal.Signals]) -> None:
    for seconds, sig in moments:
        threading.Timer(seconds, os.kill, (os.getpid(), sig)).start()


def test_sigterm_is_forwarded_as_one_sigint(survives_sigterm):
    signal_self_at((1.0, signal.SIGTERM))
    result = process.run([sys.executable, "-c", TRAPS_BOTH], env=dict(os.environ), grace_seconds=20)
    assert result.interrupted and result.returncode == 3
    assert result.stdout.splitlines()[1:] == ["got SIGINT"]


def test_repeated_signals_during_the_grace_period_do_not_escalate(survives_sigterm):
    """GitHub Actions cancels with SIGINT, then SIGTERM; Terraform takes a second signal as "abort now"."""
    signal_self_at((0.8, signal.SIGINT), (1.3, signal.SIGTERM), (1.6, signal.SIGINT), (1.9, signal.SIGTERM))
    result = process.run([sys.executable, "-c", TRAPS_BOTH], env=dict(os.environ), grace_seconds=20)
    assert result.interrupted and result.returncode == 3  # the child stopped on its own terms
    assert result.stdout.splitlines()[1:] == ["got SIGINT"]


def test_the_grace_period_is_counted_from_the_first_signal_and_escalates_once(survives_sigterm):
    signal_self_at((1.0, signal.SIGINT), (1.2, signal.SIGTERM))
    result = process.run([sys.executable, "-c", IGNORES_SIGINT], env=dict(os.environ), grace_seconds=1.0)
    assert result.interrupted and result.returncode == -signal.SIGTERM
    assert 1.9 < result.seconds < 6


def test_the_wait_returns_as_soon_as_the_child_exits():
    """No polling: a timed wait sleeps up to 50 ms after the child exits, on each of ~10 Terraform calls."""
    child = "import time, os; time.sleep({}); print(time.time(), flush=True); os._exit(0)"
    lags = []
    for sleep in (0.21, 0.26, 0.31, 0.36, 0.41, 0.46, 0.51):
        result = process.run([sys.executable, "-c", child.format(sleep)], env=dict(os.environ))
        lags.append(time.time() - float(result.stdout))
    lags.sort()
    assert lags[len(lags) // 2] < 0.015, lags


SIGNAL_AFTER_THE_CHILD = """
import os, signal, sys, time
import typer
from toolkit.adapters import process
from toolkit.cli.invocation import command

@command
def body():
    process.run([sys.executable, "-c", "pass"], env=dict(os.environ))
    os.kill(os.getpid(), signal.{sig})  # the child has exited; toolkit is still at work
    time.sleep(10)

try:
    body()
except typer.Exit as exc:
    sys.exit(exc.exit_code)
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_after_the_child_exited_still_exits_130(sig):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_AFTER_THE_CHILD.format(sig=sig)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 130, done.stderr
    assert "error: interrupted" in done.stderr and "Traceback" not in done.stderr


def test_a_background_child_not_waited_for_is_stopped_cleanly_when_its_block_ends():
    with (
        pytest.raises(RuntimeError),
        process.background([sys.executable, "-c", TRAPS_SIGINT], env=dict(os.environ)) as running,
    ):
        time.sleep(0.3)
        raise RuntimeError("the caller failed meanwhile")
    assert running._child.returncode == 3  # it got one SIGINT and finished on its own terms


def test_a_background_child_that_ignores_sigint_is_still_reaped_when_its_block_ends():
    started = time.monotonic()
    with process.background([sys.executable, "-c", IGNORES_SIGINT], env=dict(os.environ), grace_seconds=0.3) as running:
        time.sleep(0.2)
    assert running._child.returncode == -signal.SIGTERM and time.monotonic() - started < 5  # not SIGKILL's 10 s


def test_a_stop_signal_while_waiting_for_a_background_child_is_forwarded_once():
    with process.background([sys.executable, "-c", TRAPS_SIGINT], env=dict(os.environ)) as running:
        interrupt_self_after(0.4)
        result = running.wait()
    assert result.interrupted and result.returncode == 3 and result.stdout.count("got SIGINT") == 1
