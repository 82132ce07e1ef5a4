"""`-- toolkit:key=value` directives at the top of a file."""

from __future__ import annotations

import pytest

from toolkit.migrations.directives import DirectiveError, Directives, parse_directives


def test_no_directives():
    assert parse_directives("CREATE TABLE t (id int);\n") == Directives()


def test_all_directives():
    text = (
        "-- a note about this file\n"
        "-- toolkit:transaction=false\n"
        "--toolkit:environments = dev, pr-*\n"
        "-- toolkit:allow=drop-column,rename\n"
        "\n"
        "-- toolkit:lock_timeout=5s\n"
        "-- toolkit:statement_timeout=10min\n"
        "CREATE INDEX CONCURRENTLY i ON t (x);\n"
    )
    assert parse_directives(text) == Directives(
        transactional=False,
        environments=("dev", "pr-*"),
        allow=frozenset({"drop-column", "rename"}),
        lock_timeout="5s",
        statement_timeout="10min",
    )


@pytest.mark.parametrize(
    "text, message, line",
    [
        ("-- toolkit:transactions=false\n", "unknown directive toolkit:transactions", 1),
        ("-- toolkit:transaction=no\n", "must be true or false", 1),
        ("-- toolkit:lock_timeout=soon\n", "not a duration", 1),
        ("-- toolkit:allow=\n", "comma-separated", 1),
        ("SELECT 1;\n-- toolkit:transaction=false\n", "must be at the top", 2),
        ("-- toolkit:allow=truncate\n-- toolkit:allow=rename\n", "given twice", 2),
        (
            "-- toolkit:allow=drop-column, drop_table\n",
            r"toolkit:allow names unknown rule\(s\) drop_table \(known: drop-table, drop-column, truncate, "
            r"column-type, not-null, index-without-concurrently, rename, table-copy, algorithm, "
            r"mixed-ddl-dml\)",
            1,
        ),
    ],
)
def test_bad_directives_are_errors_with_their_line(text, message, line):
    with pytest.raises(DirectiveError, match=message) as raised:
        parse_directives(text)
    assert raised.value.line == line


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_flyway_knows_ends_a_directive_line(newline):
    text = newline.join(["-- x", "-- toolkit:environments=dev", "-- toolkit:allow=truncate", "TRUNCATE t;", ""])
    assert parse_directives(text) == Directives(environments=("dev",), allow=frozenset({"truncate"}))
    with pytest.raises(DirectiveError, match="must be at the top") as raised:
        parse_directives(newline.join(["SELECT 1;", "", "-- toolkit:transaction=false", ""]))
    assert raised.value.line == 3


@pytest.mark.parametrize(
    "line",
    [
        "-- toolkit:transaction",
        "-- toolkit: transaction=false",
        "-- TOOLKIT:transaction=false",
        "--toolkit : allow=truncate",
    ],
)
def test_a_malformed_directive_in_the_header_is_an_error(line):
    with pytest.raises(DirectiveError, match="malformed directive") as raised:
        parse_directives(f"-- about this file\n{line}\nSELECT 1;\n")
    assert raised.value.line == 2
