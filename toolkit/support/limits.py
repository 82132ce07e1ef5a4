"""Size caps on the files toolkit reads whole: a file over its cap is refused at once, by size, before
any of it is parsed, so the work on any input toolkit accepts stays small and linear.

The caps are far above real files and documented in docs/reliability.md ("Sizes"): a var file holds
tens of variables; 1 MiB is also Step Functions' own cap on a state machine definition.
"""

from __future__ import annotations

from pathlib import Path

VAR_FILE_MAX_BYTES = 1_048_576  # 1 MiB
VAR_FILE_MAX_KEYS = 2_000
PIPELINE_FILE_MAX_BYTES = 1_048_576  # 1 MiB, Step Functions' limit on a definition


class TooLarge(Exception):
    """The file is over its cap; `size` is its size in bytes (at least cap + 1)."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"is {size} bytes long; at most {cap} ({describe(cap)})")
        self.size = size
        self.cap = cap


def read_capped(path: Path, cap: int) -> bytes:
    """The file's bytes, reading at most cap + 1 of them; TooLarge if there are more than `cap`."""
    with path.open("rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        try:
            size = path.stat().st_size
        except OSError:
            size = len(data)
        raise TooLarge(max(size, len(data)), cap)
    return data


def describe(cap: int) -> str:
    return f"{cap // 1_048_576} MiB" if cap % 1_048_576 == 0 else f"{cap // 1024} KiB"
