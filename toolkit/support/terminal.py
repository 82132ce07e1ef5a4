"""Terminal control sequences removed from text a child printed, before toolkit shows it.

Every Terraform argv asks for -no-color, but not every subcommand takes it (`state push`, the workspace
commands), and a provisioner or provider can print anything: a message must read the same in a pipe,
a CI log or a terminal, and never move the cursor or retitle the window.
"""

from __future__ import annotations

import re

# ECMA-48: CSI (colours, cursor moves, private modes like `?25l`), OSC (titles, hyperlinks; ended by
# BEL or ST), the other two-byte escapes, the 8-bit CSI, then any ESC or BEL left on its own.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x1b\x07]"
)


def plain(text: str) -> str:
    """`text` without terminal control sequences (one pass, linear in its length)."""
    return _CONTROL.sub("", text) if ("\x1b" in text or "\x07" in text or "\x9b" in text) else text
