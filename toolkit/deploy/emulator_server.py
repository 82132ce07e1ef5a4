"""The emulator toolkit runs for `--emulator`: one patched moto server per state folder, in a process of
its own (so that `env up`, `env status` and `env down` in later commands see the same emulated account),
found again through `<state>/emulator/server.json` and started when it is not running.

moto keeps its data in memory only: stopping it (`toolkit emulator stop`) or a restart of the machine
loses every emulated resource and the state bucket, which is said whenever a new one starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from toolkit.errors import ConfigError, ToolkitError
from toolkit.support.reporting import Reporter

START_TIMEOUT = 30.0
NOT_PERSISTENT = (
    "moto keeps the emulated AWS in memory: stopping it (`toolkit emulator stop`) or restarting the machine "
    "loses every emulated resource and the state bucket"
)


def folder(state_root: Path) -> Path:
    return state_root / "emulator"


def _record(state_root: Path) -> Path:
    return folder(state_root) / "server.json"


def running_endpoint(state_root: Path) -> str | None:
    """The endpoint of this state folder's emulator if it is running and answers, else None."""
    try:
        record = json.loads(_record(state_root).read_text())
        os.kill(int(record["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    endpoint = f"http://127.0.0.1:{int(record['port'])}"
    return endpoint if _answers(endpoint) else None


def _answers(endpoint: str) -> bool:
    """Whether an HTTP server answers there (any status: moto's own API pages fail on some data)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):  # noqa: S310 (loopback)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_running(state_root: Path, reporter: Reporter) -> str:
    """The endpoint of this state folder's emulator, started (detached, on a free loopback port) if needed."""
    endpoint = running_endpoint(state_root)
    if endpoint:
        return endpoint
    try:
        import moto.server  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--emulator needs moto, which is in toolkit's dev extra and not installed here",
            hint="pip install 'dataenv-toolkit[dev]' (make env installs it)",
        ) from None
    where = folder(state_root)
    where.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with open(where / "moto.log", "ab") as log:
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "toolkit.deploy.emulator_server", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives this command, and a Ctrl-C in it
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(endpoint):
        if child.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(OSError):
                child.kill()
            raise ToolkitError(
                f"the AWS emulator (moto) did not start on {endpoint}",
                hint=f"see {where / 'moto.log'}",
            )
        time.sleep(0.2)
    _record(state_root).write_text(json.dumps({"pid": child.pid, "port": port}))
    reporter.note(f"started the AWS emulator (moto) on {endpoint}, log in {where / 'moto.log'}; {NOT_PERSISTENT}")
    return endpoint


def stop(state_root: Path) -> bool:
    """Stop this state folder's emulator; True if one was running."""
    try:
        record = json.loads(_record(state_root).read_text())
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    _record(state_root).unlink(missing_ok=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    return True


def _check_definition(definition: str) -> list[str]:
    """ValidateStateMachineDefinition as toolkit answers it: its own ASL schema and checks."""
    from toolkit.pipelines.kinds import check

    try:
        data = json.loads(definition)
    except ValueError as exc:
        return [f"the definition is not JSON: {exc}"]
    return [f"{p.pointer or '/'}: {p.message}" for p in check(data, "definition", "asl") if p.is_error]


def main(argv: list[str]) -> None:
    from toolkit.adapters.aws.moto_server import serve

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    serve(int(argv[0]), _check_definition)


if __name__ == "__main__":
    main(sys.argv[1:])
