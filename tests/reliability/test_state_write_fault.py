"""The S3 endpoint dies during an apply: Terraform cannot save the state and writes `errored.tfstate`.
toolkit keeps it per environment and stack, says exactly how to push it, refuses every run until
`toolkit env push-state` has pushed it, and no resource is ever created twice (a provisioner counts
each creation). The endpoint is a TCP proxy in front of moto, stopped and started again by the test."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.projects import free_port, write_s3_project
from tests.running import Bucket, invoke, run_cli, set_run, wait_for

pytestmark = pytest.mark.slow

COUNTED = """
resource "terraform_data" "counted" {
  input = var.run_id
  provisioner "local-exec" {
    command = "echo counted >> ${path.module}/../created.log"
  }
}
resource "terraform_data" "after" {
  depends_on = [terraform_data.slow, terraform_data.counted]
  input      = var.run_id
  provisioner "local-exec" {
    command = "echo after >> ${path.module}/../created.log"
  }
}
"""


class Proxy:
    """A TCP forwarder on a fixed local port that can be stopped (connections refused) and started."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        self.up = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        self.up = False
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self.listener.close()
            self.listener = None
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    live: set[int] = set()

    @staticmethod
    def running(sock: socket.socket) -> bool:
        return sock.fileno() != -1

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while (data := source.recv(65536)) and Proxy.running(source):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied(tmp_path, moto_endpoint, database):
    from toolkit.adapters.aws.state_bucket import bootstrap_state_bucket

    upstream = urlparse(moto_endpoint)
    proxy = Proxy((upstream.hostname, upstream.port))
    proxy.start()
    bucket = f"state-{uuid.uuid4().hex[:10]}"
    bootstrap_state_bucket(bucket, "us-east-1", endpoint=moto_endpoint)
    project = write_s3_project(
        tmp_path / "p", endpoint=f"http://127.0.0.1:{proxy.port}", bucket=bucket, database=database
    )
    with (project / "stack" / "main.tf").open("a") as handle:
        handle.write(COUNTED)
    try:
        yield project, proxy
    finally:
        proxy.stop()


def _ids(state: dict) -> dict[str, str]:
    return {r["name"]: r["instances"][0]["attributes"]["id"] for r in state["resources"]}


def _creations(project: Path) -> list[str]:
    log = project / "created.log"
    return sorted(log.read_text().split()) if log.exists() else []


def test_a_state_terraform_could_not_save_is_pushed_never_applied_again(proxied, record_figure):
    project, proxy = proxied
    set_run(project, 4, "r1")
    proc = run_cli(project, "env", "up", "pr-5")
    wait_for(proc, "terraform_data.slow: Creating...")
    proxy.stop()  # the endpoint dies while the provisioner sleeps: the state write at the end fails
    output = proc.communicate(timeout=300)[0]
    proxy.start()
    assert proc.returncode == 4, output
    kept = project / ".toolkit" / "pr-5" / "infra" / "errored.tfstate"
    assert kept.is_file() and oct(kept.stat().st_mode & 0o777) == "0o600", output
    assert (
        f"Terraform could not save the state of stack 'infra' (environment 'pr-5') to its backend; it is kept in {kept}"
        in output
    )
    assert "Do not run the same command again" in output
    assert "toolkit env push-state pr-5 --stack infra" in output and "run the same command again;" not in output
    assert not (project / "stack" / "errored.tfstate").exists()
    created = _creations(project)
    errored = json.loads(kept.read_text())

    for args in (("env", "up", "pr-5"), ("plan", "pr-5"), ("env", "down", "pr-5")):
        refused = invoke(project, *args)
        assert refused.exit_code == 4, (args, refused.output)
        assert f"{kept} holds the state of stack 'infra' (environment 'pr-5')" in refused.output
        assert "push it: toolkit env push-state pr-5 --stack infra" in refused.output
    assert _creations(project) == created

    pushed = invoke(project, "env", "push-state", "pr-5", "--stack", "infra")
    if pushed.exit_code != 0 and "lock" in pushed.output:  # the dead run's lock: released as the hint says
        hint = next(line for line in pushed.output.splitlines() if "force-unlock" in line)
        unlocked = invoke(project, *hint.split("toolkit ", 1)[1].split())
        assert unlocked.exit_code == 0, unlocked.output
        pushed = invoke(project, "env", "push-state", "pr-5", "--stack", "infra")
    assert pushed.exit_code == 0, pushed.output
    assert f"pushed {kept}" in pushed.stdout and not kept.exists()

    again = invoke(project, "env", "up", "pr-5")
    assert again.exit_code == 0, again.output
    assert created == ["after", "counted"]  # each provisioner ran once, in the run the endpoint died in
    assert _creations(project) == created, "a resource was created a second time"
    now = Bucket(project, f"http://127.0.0.1:{proxy.port}").state("pr-5")
    assert _ids(now) == _ids(errored)  # the very resources of the failed run, none made again
    record_figure(
        "state write fault",
        f"S3 killed mid-apply: errored state kept, 3 runs refused, pushed; {len(created)} resources, each created once",
    )
