"""Statement splitting: strings, identifiers, dollar quotes, comments, BEGIN ATOMIC; exact lines."""

from __future__ import annotations

import pytest

from toolkit.migrations.sqlsplit import SplitError, Statement, line_of, split_statements


def split(text: str) -> list[tuple[int, str]]:
    return [(s.line, s.sql) for s in split_statements(text)]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split():
    text = (
        "-- a comment; with a semicolon\n"
        "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'esc\\';still');\n"
        '/* block; /* nested; */ still comment */ SELECT "odd;name" FROM t;\n'
    )
    assert split(text) == [
        (2, "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'esc\\';still')"),
        (3, 'SELECT "odd;name" FROM t'),
    ]


def test_dollar_quoted_bodies_and_do_blocks():
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  RETURN 1; -- $$ inside a tagged body\n"
        "END;\n"
        "$fn$;\n"
        "\n"
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "SELECT $1, a$b$ FROM x;\n"
    )
    result = split(text)
    assert [line for line, _ in result] == [1, 7, 8]
    assert result[0][1].endswith("$fn$")
    assert result[1][1] == "DO $$ BEGIN PERFORM 1; END $$"
    assert result[2][1] == "SELECT $1, a$b$ FROM x"


@pytest.mark.parametrize("tag", ["fn", "_x1", "tâg", "função", "标签", "\U0001f600", "a\U0001f600b"])
def test_a_dollar_tag_of_any_non_ascii_characters_quotes_like_an_ascii_one(tag):
    """PostgreSQL reads a tag's characters as bytes: every byte of a non-ASCII character (astral ones too)
    may start or continue a tag; a digit only continues one, and `$1` is a parameter, not a tag."""
    text = f"SELECT ${tag}$ a; b ${tag}$;\nSELECT 2;\n"
    assert split(text) == [(1, f"SELECT ${tag}$ a; b ${tag}$"), (2, "SELECT 2")]


def test_a_digit_does_not_start_a_dollar_tag():
    assert split("SELECT $1a$; SELECT 2;\n") == [(1, "SELECT $1a$"), (1, "SELECT 2")]


def test_begin_atomic_body_with_case_end():
    text = (
        "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n"
        "  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n"
        "  SELECT 2;\n"
        "END;\n"
        "SELECT 3;\n"
    )
    assert [line for line, _ in split(text)] == [1, 6]


def test_lines_count_crlf_and_cr_line_ends():
    assert split("SELECT 1;\r\n\r\nSELECT 2;\rSELECT 3") == [
        (1, "SELECT 1"),
        (3, "SELECT 2"),
        (4, "SELECT 3"),
    ]


def test_line_of_an_error_position_inside_a_statement():
    statement = Statement("SELECT 1,\n  2,\n  nope", line=10, offset=0)
    assert line_of(statement, statement.sql.index("nope") + 1) == 12
    assert line_of(statement, 1) == 10


def test_empty_statements_and_trailing_comments_are_dropped():
    assert split(";;\n-- only a comment\n") == []


@pytest.mark.parametrize(
    "text, line",
    [
        ("SELECT 'open;\n", 1),
        ("\nSELECT $x$ body;\n", 2),
        ("SELECT 1; /* never closed\n", 1),
        ('\n\nSELECT "a', 3),
    ],
)
def test_unterminated_tokens_are_errors_with_their_line(text, line):
    with pytest.raises(SplitError) as raised:
        split_statements(text)
    assert raised.value.line == line


@pytest.mark.parametrize("column", ["t.case", "t . end", "t.\n  case", "t.begin, t.atomic"])
def test_keywords_after_a_dot_are_names_inside_begin_atomic(column):
    text = f"CREATE FUNCTION g() RETURNS text LANGUAGE sql\nBEGIN ATOMIC\n  SELECT {column} FROM t;\nEND;\nSELECT 3;\n"
    result = split(text)
    assert [line for line, _ in result] == [1, text.count("\n")]
    assert result[0][1].endswith("END")


def test_copy_from_stdin_keeps_its_data_lines_out_of_the_sql():
    text = (
        "COPY t (a, b) FROM stdin; -- as pg_dump writes it\n"
        "1\tsemi; colon\n"
        "2\tit's $$ /* no comment\n"
        "  \\.  \n"
        "SELECT 1;\n"
    )
    copy, select = split_statements(text)
    assert (copy.sql, copy.line, copy.copy_data) == (
        "COPY t (a, b) FROM stdin",
        1,
        "1\tsemi; colon\n2\tit's $$ /* no comment\n",
    )
    assert (select.sql, select.line, select.copy_data) == ("SELECT 1", 5, None)
    assert split_statements("copy t from STDIN with (format csv);\r\n\\.\r\n")[0].copy_data == ""


def test_copy_data_without_its_end_line_is_an_error_naming_the_statement():
    with pytest.raises(SplitError) as raised:
        split_statements("SELECT 1;\nCOPY t FROM stdin;\n1\n2\n")
    assert raised.value.line == 2 and "does not end with a line holding only" in str(raised.value)
    with pytest.raises(SplitError):
        split_statements("COPY t FROM stdin;")
    # COPY to a client or from a server file has no data in the script
    assert [s.copy_data for s in split_statements("COPY t TO STDOUT;\nCOPY t FROM '/f.csv';\n")] == [None, None]


def test_a_statement_starts_at_its_first_character_even_one_no_token_matches():
    assert split("(SELECT 1) UNION (SELECT 2);\n  1;\n") == [(1, "(SELECT 1) UNION (SELECT 2)"), (2, "1")]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1;\nSELECT 'a;b' /* c; */ FROM t; -- x;\n",
        "CREATE TABLE t (\n  id int -- the key; really\n);\r\nINSERT INTO t VALUES (1), (2);\rSELECT $$;$$;\n",
        "COPY t FROM STDIN;\n1\n2\n\\.\nSELECT E'\\';' , \"q;\" FROM x.end;\n",
        "SELECT CASE WHEN a THEN b END FROM t;\n/* a /* nested; */ ; */ SELECT 2;\n",
    ],
)
def test_the_scan_that_skips_words_splits_as_the_one_that_reads_them(text):
    # "atomic" anywhere makes the splitter read every word (to see BEGIN ATOMIC); without it, words are
    # skipped: both must give the same statements and lines
    words = split_statements(text + "-- atomic\n")
    assert [(s.sql, s.line, s.copy_data) for s in split_statements(text)] == [
        (s.sql, s.line, s.copy_data) for s in words
    ]
