"""Discovery on real folders: duplicates, names that do not parse, files read once, through the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.projects import free_port, write_local_project
from toolkit.cli import app
from toolkit.errors import ValidationFailed
from toolkit.migrations.discovery import discover
from toolkit.migrations.source import load

pytestmark = pytest.mark.slow


def test_one_version_written_three_ways_is_a_duplicate(tmp_path):
    for name in ("V1__a.sql", "V1_0__b.sql", "V01__c.sql", "V2__d.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(ValidationFailed) as raised:
        load(discover(tmp_path))
    assert raised.value.problems == [
        "V1_0__b.sql: versioned migration duplicates V01__c.sql (same version)",
        "V1__a.sql: versioned migration duplicates V01__c.sql (same version)",
    ]


def test_subfolders_sort_numerically_and_undo_files_are_recognised(tmp_path):
    (tmp_path / "2024").mkdir()
    for name in ("V1_10__c.sql", "V1_9__b.sql", "2024/V2__d.sql", "V1__a.sql", "U2__undo_d.sql", "notes.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    found = discover(tmp_path)
    assert [f.script for f in found.versioned] == [
        "V1__a.sql",
        "V1_9__b.sql",
        "V1_10__c.sql",
        "2024/V2__d.sql",
    ]
    assert [f.script for f in found.undo.values()] == ["U2__undo_d.sql"]


def test_unreadable_and_badly_directed_files_are_reported_together(tmp_path):
    (tmp_path / "V1__latin1.sql").write_bytes("SELECT 'caf\xe9';\n".encode("latin-1"))
    (tmp_path / "V2__typo.sql").write_text("-- toolkit:transation=false\nSELECT 1;\n")
    with pytest.raises(ValidationFailed) as raised:
        load(discover(tmp_path))
    assert raised.value.problems == [
        "V1__latin1.sql:1: not valid UTF-8 (byte 12); save the file as UTF-8",
        "V2__typo.sql:1: unknown directive toolkit:transation (known: transaction, environments, allow, "
        "lock_timeout, statement_timeout)",
    ]


def test_a_name_that_does_not_parse_fails_the_cli_with_exit_1(tmp_path):
    project = write_local_project(tmp_path / "project", port=free_port())
    (project / "sql" / "V6_add_note.sql").write_text("SELECT 1;\n")  # one underscore: not Flyway's grammar
    result = CliRunner().invoke(app, ["-C", str(project), "--plain", "db", "lint"])
    assert result.exit_code == 1
    assert "V6_add_note.sql: looks like a migration but does not follow V<version>__<description>.sql" in (
        result.output
    )


def test_a_file_with_cr_line_endings_keeps_its_directives(tmp_path):
    (tmp_path / "V1__fixtures.sql").write_bytes(b"-- x\r-- toolkit:environments=dev\rINSERT INTO t VALUES (1);\r")
    [fixtures] = load(discover(tmp_path)).versioned
    assert fixtures.runs_in("dev") and not fixtures.runs_in("prod")


def test_every_problem_with_the_files_is_reported_at_once(tmp_path):
    (tmp_path / "V1__a.sql").write_text("SELECT 1;\n")
    (tmp_path / "V01__b.sql").write_text("SELECT 1;\n")
    (tmp_path / "V2_x.sql").write_text("SELECT 1;\n")
    (tmp_path / "V3__latin1.sql").write_bytes(b"SELECT 1;\r\n-- fine\rSELECT 'caf\xe9';\n")
    (tmp_path / "V4__typo.sql").write_text("-- toolkit:allow=drop_table\nSELECT 1;\n")
    with pytest.raises(ValidationFailed) as raised:
        load(discover(tmp_path))
    assert raised.value.problems == [
        "V1__a.sql: versioned migration duplicates V01__b.sql (same version)",
        "V2_x.sql: looks like a migration but does not follow V<version>__<description>.sql, U<version>__… or "
        "R__<description>.sql",
        "V3__latin1.sql:3: not valid UTF-8 (byte 31); save the file as UTF-8",
        "V4__typo.sql:1: toolkit:allow names unknown rule(s) drop_table (known: drop-table, drop-column, truncate, "
        "column-type, not-null, index-without-concurrently, rename, table-copy, algorithm, mixed-ddl-dml)",
    ]
