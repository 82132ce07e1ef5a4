"""Golden cases: each valid file passes; each invalid file gives exactly the errors in its .expected file
(line:column, JSON pointer, keyword, message), one per line."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.pipelines.catalog import load_catalog

GOLDEN = Path(__file__).resolve().parent / "pipelines"
CASES = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json"))


@pytest.fixture(scope="module")
def problems_by_file() -> dict[str, list[str]]:
    # One catalog over every kind: Glue workflow triggers see the golden Glue jobs, as in a project.
    found: dict[str, list[str]] = {}
    for problem in load_catalog(GOLDEN, GOLDEN).problems:
        found.setdefault(problem.file, []).append(
            f"{problem.line}:{problem.column} {problem.pointer or '/'} {problem.keyword} {problem.message}"
        )
    return found


def test_every_kind_has_a_valid_case_and_an_invalid_one():
    kinds = {case.split("/")[0] for case in CASES}
    assert {"asl", "glue-job", "glue-workflow", "firehose", "datapipeline", "json"} <= kinds
    for kind in kinds - {"json"}:
        names = [c.split("/")[1] for c in CASES if c.startswith(f"{kind}/")]
        assert any(n.startswith("valid-") for n in names) and any(n.startswith("invalid-") for n in names)


@pytest.mark.parametrize("case", [c for c in CASES if Path(c).name.startswith("valid-")])
def test_valid_case_passes(case, problems_by_file):
    assert problems_by_file.get(case, []) == []


@pytest.mark.parametrize("case", [c for c in CASES if Path(c).name.startswith("invalid-")])
def test_invalid_case_gives_exactly_the_expected_errors(case, problems_by_file):
    expected_file = GOLDEN / case.replace(".json", ".expected")
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert expected, f"{expected_file} must list at least one error"
    assert problems_by_file.get(case, []) == expected
