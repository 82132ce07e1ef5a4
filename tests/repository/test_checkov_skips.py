"""Every checkov finding the stacks skip says why, beside the resource: `#checkov:skip=ID:reason`. A
bare skip (no reason, or an ID that is not a checkov check) would silence `make lint` without a word."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SKIP = re.compile(r"#\s*checkov:skip=(?P<rest>.*)$")
WELL_FORMED = re.compile(r"^(?P<id>CKV2?_[A-Z]+_\d+):(?P<reason>\S.{19,})$")


def skips() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((REPO / "terraform").rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if match := SKIP.search(line):
                found.append((str(path.relative_to(REPO)), number, match["rest"].strip()))
    return found


def test_every_checkov_skip_names_a_check_and_gives_a_reason():
    found = skips()
    assert found, "the stacks skip no checkov check: update this test if that is now true"
    bad = [f"{file}:{line}: {rest!r}" for file, line, rest in found if not WELL_FORMED.match(rest)]
    assert not bad, "checkov skips need `ID:reason` (a sentence, at least 20 characters):\n" + "\n".join(bad)


def test_a_check_is_skipped_at_most_once_per_resource_block():
    seen: dict[tuple[str, int, str], int] = {}
    for file, line, rest in skips():
        check = rest.split(":", 1)[0]
        block_start = _block_start(REPO / file, line)
        seen[(file, block_start, check)] = seen.get((file, block_start, check), 0) + 1
    assert [key for key, count in seen.items() if count > 1] == []


def _block_start(path: Path, line: int) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    for number in range(line - 1, -1, -1):
        if lines[number][:1] not in ("", " ", "\t", "}", "#"):
            return number + 1
    return 0
