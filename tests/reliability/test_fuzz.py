"""Property-based fuzzing (hypothesis, derandomized so CI is reproducible): pipeline JSON, tfvars,
migration file names and contents, environment names and toolkit.toml. Whatever the input, toolkit
answers with a clear error (a ToolkitError, a documented exit code), never a traceback."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.projects import REPO, write_local_project
from toolkit.cli import app
from toolkit.errors import ToolkitError

pytestmark = pytest.mark.slow

EXAMPLES = 300  # per library property (cheap)
CLI_EXAMPLES = 80  # per property that runs the CLI in-process on a project copy
DOCUMENTED_EXITS = {0, 1, 3, 64}  # 2 only means changes pending (--detailed-exitcode)


def fuzz(examples: int) -> settings:
    """Bounded, reproducible: the same inputs on every run (no example database, derandomized)."""
    return settings(
        derandomize=True,
        deadline=None,
        database=None,
        max_examples=examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


COUNTS: Counter[str] = Counter()


def record(record_figure, family: str) -> None:
    COUNTS[family] += 1
    total = sum(COUNTS.values())
    parts = ", ".join(f"{name} {n}" for name, n in sorted(COUNTS.items()))
    record_figure("fuzzing", f"{total} generated inputs answered with a clear error or success, no traceback ({parts})")


@contextmanager
def project_copy() -> Iterator[Path]:
    """The reference local project (infra + pipelines) in a fresh temp folder, per example."""
    root = Path(tempfile.mkdtemp(prefix="toolkit-fuzz-"))
    try:
        yield write_local_project(root / "p", port=55432, state_dir=root / "state", with_pipelines=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cli(project: Path, *args: str):
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", *args])
    assert result.exit_code in DOCUMENTED_EXITS, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def only_toolkit_errors(fn, *args, **kwargs):
    """Call a library function: it returns, or raises a ToolkitError with a message; nothing else."""
    try:
        return fn(*args, **kwargs)
    except ToolkitError as exc:
        assert str(exc).strip(), "an error without a message"
        return exc


# --- values -----------------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Text that breaks JSON in the ways people do: bad UTF-8, NaN, comments, trailing commas, BOMs.
broken_json = st.sampled_from(
    [
        b"",
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"a": NaN}',
        b"{'a': 1}",
        b'{"a": 1,}',
        b"// c\n{}",
        b"[]",
        b'"s"',
        b"1",
        b"null",
        b'{"a": 1} x',
        b'{"a": "\xc3\x28"}',
        b'{"a":',
        b"\x00",
    ]
)


def json_bytes() -> st.SearchStrategy[bytes]:
    return (
        broken_json
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=60)
        | st.text(max_size=60).map(lambda s: s.encode("utf-8", "surrogatepass"))
    )


def mutate(document, data) -> object:
    """Replace one value somewhere in a JSON document with a generated one (or delete a key)."""
    if isinstance(document, dict) and document:
        key = data.draw(st.sampled_from(sorted(document)))
        choice = data.draw(st.integers(0, 3))
        if choice == 0:
            return {k: v for k, v in document.items() if k != key}
        if choice == 1:
            return {**document, key: data.draw(json_values)}
        return {**document, key: mutate(document[key], data)}
    if isinstance(document, list) and document:
        index = data.draw(st.integers(0, len(document) - 1))
        return [*document[:index], mutate(document[index], data), *document[index + 1 :]]
    return data.draw(json_values)


# --- pipelines --------------------------------------------------------------------------------------

VALID_PIPELINES = sorted((REPO / "pipelines").rglob("*.json"))


@fuzz(200)
@given(data=st.data())
def test_pipeline_json_never_crashes(data, record_figure):
    with project_copy() as project:
        target = data.draw(st.sampled_from(VALID_PIPELINES)).relative_to(REPO)
        how = data.draw(st.sampled_from(["mutate", "bytes"]))
        if how == "mutate":
            document = json.loads((REPO / target).read_text())
            (project / target).write_text(json.dumps(mutate(document, data)))
        else:
            (project / target).write_bytes(data.draw(json_bytes()))
        cli(project, "pipelines", "validate")
    record(record_figure, "pipelines")


# --- tfvars -----------------------------------------------------------------------------------------


@fuzz(50)  # `stacks check` runs the engine's fmt and parse: ~1s an example
@given(data=st.data())
def test_tfvars_never_crash(data, record_figure):
    from toolkit.deploy.context import Context
    from toolkit.deploy.validation import validate_databases
    from toolkit.project.loader import load_project

    with project_copy() as project:
        var_file = project / "tfvars" / "local.tfvars.json"
        if data.draw(st.booleans()):
            var_file.write_bytes(data.draw(json_bytes()))
        else:
            var_file.write_text(json.dumps(mutate(json.loads(var_file.read_text()), data)))
        ctx = Context(project=load_project(project))
        only_toolkit_errors(validate_databases, ctx, ctx.project.environment("local"))
        cli(project, "pipelines", "validate")
        cli(project, "stacks", "check")
    record(record_figure, "tfvars")


hcl_lines = st.sampled_from(
    [
        'project = "orders"',
        "db_port = 5432",
        "x = [1, 2",
        'y = { a = "b" }',
        "= 1",
        "z = ${var.x}",
        "a = <<EOF",
        "EOF",
        "# comment",
        "b = true",
        'c = "unterminated',
        "d = 1e999",
        "e = null",
        "{",
        "}",
    ]
)


@fuzz(EXAMPLES)
@given(text=st.lists(hcl_lines | st.text(max_size=20), max_size=6).map("\n".join), json_name=st.booleans())
def test_var_file_keys_never_crash(text, json_name, record_figure):
    """The static reader behind `stacks check` and env up's var-file check, on HCL and JSON var files."""
    from toolkit.project.varfiles import var_file_keys

    only_toolkit_errors(var_file_keys, "x.tfvars.json" if json_name else "x.tfvars", text)
    record(record_figure, "tfvars")


# --- migrations -------------------------------------------------------------------------------------

name_parts = st.sampled_from(["V", "U", "R", "v", "B", "", "V1", "R_", "U2"])
versions = st.text(alphabet="0123456789._-a", max_size=8)
descriptions = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), max_size=20)
migration_names = st.builds(
    lambda p, v, sep, d, ext: f"{p}{v}{sep}{d}{ext}",
    name_parts,
    versions,
    st.sampled_from(["__", "_", "___", ""]),
    descriptions,
    st.sampled_from([".sql", ".SQL", ".sql.bak", ""]),
).filter(lambda n: n not in ("", ".", "..") and len(n.encode()) < 200)
directive_lines = st.builds(
    lambda k, v: f"-- toolkit:{k}={v}",
    st.sampled_from(["transaction", "environments", "allow", "lock_timeout", "statement_timeout", "x", ""]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789,*-=_ sm", max_size=12),
)
sql_snippets = st.sampled_from(
    [
        "CREATE TABLE t (id int);",
        "DROP TABLE t;",
        "ALTER TABLE t DROP COLUMN c;",
        "BEGIN;",
        "COMMIT;",
        "$$ unterminated",
        "'unterminated",
        "/* open",
        "CREATE INDEX CONCURRENTLY i ON t (c);",
        "${missing}",
        "${flyway:user}",
        "SELECT 1",
        "E'\\''",
        "$a$ x $a$;",
        "VACUUM;",
        ";;;",
        "\ufeff",
        "\r\n",
        "\x00",
    ]
)
migration_contents = st.lists(directive_lines | sql_snippets | st.text(max_size=20), max_size=8).map("\n".join)


@fuzz(EXAMPLES)
@given(files=st.dictionaries(migration_names, migration_contents | st.binary(max_size=40), max_size=5))
def test_migration_files_never_crash(files, record_figure):
    from toolkit.deploy.validation import refuse_destructive
    from toolkit.migrations.discovery import discover
    from toolkit.migrations.source import load

    root = Path(tempfile.mkdtemp(prefix="toolkit-fuzz-sql-"))
    try:
        for name, content in files.items():
            path = root / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogatepass")

        def pipeline():
            refuse_destructive(load(discover(root)))

        only_toolkit_errors(pipeline)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    record(record_figure, "migrations")


@fuzz(CLI_EXAMPLES)
@given(name=migration_names, content=migration_contents)
def test_migration_files_through_the_cli(name, content, record_figure):
    with project_copy() as project:
        (project / "sql" / name).write_text(content, encoding="utf-8", errors="surrogatepass")
        cli(project, "db", "lint")
    record(record_figure, "migrations")


# --- environment names ------------------------------------------------------------------------------

env_names = (
    st.text(max_size=40)
    | st.from_regex(r"\A(pr-[0-9]{0,30}|eph-[a-z0-9-]{0,40}|[A-Za-z0-9._/-]{0,30})\Z")
    | st.sampled_from(["", "-", "pr-", "pr-0", "eph-", "../x", "local ", "LOCAL", "pr-1\n", "x" * 300])
)


@pytest.fixture(scope="module")
def reference_project():
    from toolkit.project.loader import load_project

    return load_project(REPO)


@fuzz(500)
@given(name=env_names)
def test_environment_names_never_crash(reference_project, name, record_figure):
    from toolkit.deploy.paths import StatePaths
    from toolkit.project.names import name_from_branch

    env = only_toolkit_errors(reference_project.environment, name)
    if not isinstance(env, ToolkitError):
        assert env.name == name
        only_toolkit_errors(StatePaths(reference_project.state_dir).environment, env.name)
    derived = only_toolkit_errors(name_from_branch, name, reference_project.ephemeral)
    if isinstance(derived, str):  # a derived name is one the project accepts
        assert reference_project.environment(derived).name == derived
    record(record_figure, "environment names")


@fuzz(CLI_EXAMPLES)
@given(name=env_names.filter(lambda n: not n.startswith("-")))
def test_environment_names_through_the_cli(name, record_figure):
    result = CliRunner().invoke(app, ["-C", str(REPO), "--plain", "env", "name", "--from-branch", name])
    assert result.exit_code in DOCUMENTED_EXITS, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    record(record_figure, "environment names")


# --- toolkit.toml -----------------------------------------------------------------------------------

toml_literals = st.sampled_from(
    [
        '""',
        '"x"',
        "0",
        "-1",
        "1.5",
        "true",
        "[]",
        '["a"]',
        "[1, 2]",
        "{}",
        '{ type = "s3" }',
        "{ x = 1 }",
        "1979-05-27T07:32:00Z",
        '"../../etc"',
        '"5m"',
        '"-5m"',
        '"1h30m"',
        '"9999999999999h"',
        '"pr-<n>"',
        '"<n>"',
        '["pr-<n>", "eph-<slug>"]',
        '"["',
        "inf",
        "nan",
        '"\\u0000"',
    ]
)


def toml_text(data) -> str:
    """The reference toolkit.toml with lines replaced, dropped or added."""
    lines = (REPO / "toolkit.toml").read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["value", "drop", "key", "raw"]))
        line = lines[index]
        if action == "value" and "=" in line:
            lines[index] = f"{line.split('=', 1)[0]}= {data.draw(toml_literals)}"
        elif action == "drop":
            del lines[index]
        elif action == "key":
            key = data.draw(st.from_regex(r"\A[a-z_]{1,12}\Z"))
            lines.insert(index, f"{key} = {data.draw(toml_literals)}")
        else:
            lines.insert(index, data.draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


@fuzz(500)
@given(data=st.data())
def test_toolkit_toml_never_crashes(data, record_figure):
    from toolkit.deploy.paths import StatePaths
    from toolkit.project.loader import load_project

    root = Path(tempfile.mkdtemp(prefix="toolkit-fuzz-toml-"))
    try:
        for folder in ("sql", "pipelines", "tfvars", "terraform"):
            (root / folder).symlink_to(REPO / folder)
        (root / "toolkit.toml").write_text(toml_text(data) if data.draw(st.booleans()) else data.draw(st.text()))
        project = only_toolkit_errors(load_project, root)
        if not isinstance(project, ToolkitError):
            for name in list(project.environments) + ["pr-12", "eph-x"]:
                env = only_toolkit_errors(project.environment, name)
                if not isinstance(env, ToolkitError):
                    only_toolkit_errors(StatePaths(project.state_dir).environment, env.name)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    record(record_figure, "toolkit.toml")


@fuzz(CLI_EXAMPLES)
@given(data=st.data())
def test_toolkit_toml_through_the_cli(data, record_figure):
    with project_copy() as project:
        (project / "toolkit.toml").write_text(toml_text(data))
        cli(project, "pipelines", "validate")
        cli(project, "db", "lint")
    record(record_figure, "toolkit.toml")
