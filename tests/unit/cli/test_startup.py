"""Start-up: a command parses its options without pydantic (typer builds a TypeAdapter per option
otherwise), and the heavy libraries stay out of commands that do not use them; values keep their
types and typer's own checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from toolkit.cli import coercion

HEAVY = ("pydantic", "boto3", "botocore", "psycopg2", "rich", "jsonschema")

PROBE = """
import json, sys
sys.argv = ["toolkit", *json.loads(sys.argv[1])]
from toolkit.cli import app
try:
    app(standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def imported_by(argv: list[str], tmp_path: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["db", "status", "--help"],
        ["db", "migrate", "local", "--help"],
        ["env", "up", "dev", "--help"],
        ["--plain", "-C", "somewhere", "pipelines", "validate", "--help"],
    ],
)
def test_parsing_options_imports_none_of_the_heavy_libraries(argv, tmp_path):
    assert not imported_by(argv, tmp_path) & set(HEAVY)


def _app() -> typer.Typer:
    coercion.install()
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def run(
        name: str,
        where: Annotated[Path | None, typer.Option()] = None,
        must: Annotated[Path | None, typer.Option(exists=True)] = None,
        count: Annotated[int, typer.Option()] = 1,
        tag: Annotated[list[str] | None, typer.Option()] = None,
        flag: Annotated[bool, typer.Option()] = False,
    ) -> None:
        print(json.dumps([repr(name), repr(where), repr(must), repr(count), repr(tag), repr(flag)]))

    return app


def test_plain_values_keep_the_types_typer_gives_them(tmp_path):
    result = CliRunner().invoke(_app(), ["x", "--where", "a/b", "--tag", "t1", "--tag", "t2", "--flag"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ["'x'", repr(Path("a/b")), "None", "1", "['t1', 't2']", "True"]


def test_values_it_does_not_handle_still_get_typers_checks(tmp_path):
    runner = CliRunner()
    bad_count = runner.invoke(_app(), ["x", "--count", "many"])
    assert bad_count.exit_code == 2 and "count" in bad_count.output
    missing = runner.invoke(_app(), ["x", "--must", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
    counted = runner.invoke(_app(), ["x", "--count", "3", "--must", str(tmp_path)])
    assert counted.exit_code == 0 and json.loads(counted.output)[3] == "3"
