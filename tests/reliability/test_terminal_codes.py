"""Terminal control sequences a Terraform child prints never reach toolkit's output: a provisioner
that fails printing colours, a window title, a hidden cursor and a bell, through a real `env up`.
The streamed lines and the error message both arrive plain, the words between the codes kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.projects import new_state_dir, remove_state_dir, write_one_stack_project
from toolkit.support.terminal import plain

pytestmark = pytest.mark.slow

# HCL: `\\033` is the four characters \033, which printf turns into ESC
STACK = r"""
variable "environment" { type = string }
resource "terraform_data" "noisy" {
  provisioner "local-exec" {
    command = "printf '\\033[1;31mred-alert\\033[0m \\033]0;retitled\\007\\033[?25lcursor-gone\\033(B\\007\\n'; exit 7"
  }
}
"""


@pytest.fixture
def project(tmp_path):
    state_dir = new_state_dir()
    root = write_one_stack_project(tmp_path / "project", name="noisy", stack=STACK, state_dir=state_dir)
    try:
        yield root
    finally:
        remove_state_dir(state_dir)


def test_a_failing_provisioner_s_control_codes_never_reach_the_output(project, record_figure):
    run = subprocess.run(
        [sys.executable, "-m", "toolkit", "-C", str(project), "--plain", "env", "up", "local"],
        capture_output=True,
        env={**os.environ, "CI": "true"},
        timeout=300,
    )
    out, err = run.stdout, run.stderr
    assert run.returncode == 1, (out + err).decode()
    for stream in (out, err):
        for code in (b"\x1b", b"\x07", b"\x9b"):
            assert code not in stream, stream.decode()
    message = err.decode()
    assert "terraform apply failed for stack 'infra' (environment 'local') (exit 1)" in message, message
    assert "Output: red-alert cursor-gone" in message, message  # a window title is no text to read
    record_figure("terminal codes", "a failing provisioner's colours, title, cursor and bell: none printed")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[?25lhidden\x1b[?25h", "hidden"),
        ("\x1b]0;title\x07after", "after"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b(Bcharset", "charset"),
        ("\x9b1mcsi8", "csi8"),
        ("bell\x07 and lone \x1b", "bell and lone "),
        ("\x1b]0;never ended", ""),
    ],
)
def test_every_kind_of_control_sequence_is_removed(raw, shown):
    assert plain(raw) == shown
