"""The MySQL splitter: DELIMITER, quotes with backslash escapes, backquotes, #, -- and /* */ comments,
executable /*! */ comments; exact lines; and it never loses or invents text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.migrations.mysql_split import split_mysql
from toolkit.migrations.sqlsplit import SplitError


def split(text: str) -> list[tuple[int, str]]:
    return [(s.line, s.sql) for s in split_mysql(text)]


def test_delimiters_inside_strings_identifiers_and_comments_do_not_split():
    text = (
        "# a hash comment; with a semicolon\n"
        "-- a dash comment; too\n"
        "INSERT INTO t VALUES ('a;b', 'it''s;', 'back\\';slash', \"dq;\", `odd;name`, `tick``;`);\n"
        "/* block; comment */ SELECT 1;\n"
    )
    assert split(text) == [
        (3, "INSERT INTO t VALUES ('a;b', 'it''s;', 'back\\';slash', \"dq;\", `odd;name`, `tick``;`)"),
        (4, "SELECT 1"),
    ]


def test_double_dash_needs_a_space_to_be_a_comment():
    assert split("SELECT 1--2;\nSELECT 3;\n") == [(1, "SELECT 1--2"), (2, "SELECT 3")]


def test_delimiter_lines_change_the_delimiter_and_are_not_sent():
    text = (
        "CREATE TABLE t (id INT);\n"
        "DELIMITER $$\n"
        "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW\n"
        "BEGIN\n"
        "  SET @n = @n + 1; -- ; inside\n"
        "END$$\n"
        "delimiter //\n"
        "CREATE PROCEDURE p() BEGIN SELECT 1; END //\n"
        "DELIMITER ;\n"
        "CALL p();\n"
    )
    result = split(text)
    assert [line for line, _ in result] == [1, 3, 8, 10]
    assert result[1][1].startswith("CREATE TRIGGER") and result[1][1].endswith("END")
    assert result[2][1] == "CREATE PROCEDURE p() BEGIN SELECT 1; END"
    assert not any("DELIMITER" in sql.upper() for _, sql in result)


def test_executable_comments_stay_in_their_statement():
    assert split("/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE t (id INT) /*!50100 ENGINE=InnoDB */;\n") == [
        (1, "/*!40101 SET NAMES utf8mb4 */"),
        (2, "CREATE TABLE t (id INT) /*!50100 ENGINE=InnoDB */"),
    ]


def test_last_statement_without_delimiter_and_crlf_lines():
    assert split("SELECT 1;\r\n\r\nSELECT 2") == [(1, "SELECT 1"), (3, "SELECT 2")]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("SELECT 1;\nSELECT 'open;\n", "unterminated '…' string", 2),
        ('SELECT "open\n', 'unterminated "…" string', 1),
        ("\n\nSELECT `open\n", "unterminated `…` identifier", 3),
        ("SELECT 1; /* open\n", "unterminated /* comment", 1),
    ],
)
def test_unterminated_is_an_error_with_its_line(text, message, line):
    with pytest.raises(SplitError) as raised:
        split_mysql(text)
    assert str(raised.value) == message and raised.value.line == line


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("ab ;'\"`#-/*!\n\\$DELIMITER"), max_size=80))
def test_statements_are_the_text_at_their_offsets(text):
    """Whatever the input, a statement is exactly the file's text where it says it starts, on its line."""
    try:
        statements = split_mysql(text)
    except SplitError:
        return
    for statement in statements:
        assert text.startswith(statement.sql, statement.offset) and statement.sql.strip()
        assert statement.line == text.count("\n", 0, statement.offset) + 1


def test_a_dry_run_script_splits_back_into_the_same_statements():
    from toolkit.migrations.mysql_statements import script_sql

    statements = ["CREATE TABLE t (id INT)", "CREATE PROCEDURE p() BEGIN SELECT '$$'; END", "CALL p()"]
    script = script_sql(statements)
    assert "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT '$$'; END//\nDELIMITER ;\n" in script
    assert [s.sql for s in split_mysql(script)] == statements


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DELIMITER ||\nSELECT a|b FROM t||\nSELECT 1||\n", ["SELECT a|b FROM t", "SELECT 1"]),
        ("DELIMITER ;;\nSELECT 1; SELECT 2;;\n", ["SELECT 1; SELECT 2"]),
        ("DELIMITER $$\nSELECT x$y FROM t$$SELECT 2$$", ["SELECT x$y FROM t", "SELECT 2"]),
        ("SELECT a-b, c/d FROM t;SELECT 'x;y'#;\n;", ["SELECT a-b, c/d FROM t", "SELECT 'x;y'#;"]),
        ("SELECT abc--x;\nSELECT 2;", ["SELECT abc--x", "SELECT 2"]),
        ("SELECT abc-- x;\nSELECT 2;", ["SELECT abc-- x;\nSELECT 2"]),
    ],
)
def test_a_run_of_plain_characters_stops_at_whatever_can_end_or_quote(text, expected):
    """The plain characters inside a statement are crossed in one step: the delimiter's first character
    (also when it is a plain character elsewhere), quotes and comment openers must still stop it."""
    assert [s.sql for s in split_mysql(text)] == expected


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([";", "$$", "//", "|", ";;"]),
    st.lists(st.text(alphabet=list("abcXYZ019 ,()=<>+*|$"), min_size=1, max_size=12), min_size=1, max_size=6),
)
def test_every_delimiter_between_plain_words_ends_a_statement(delimiter, words):
    words = [w.strip() for w in words if w.strip() and delimiter not in w.strip() + delimiter[:-1]]
    if not words:
        return
    text = ("" if delimiter == ";" else f"DELIMITER {delimiter}\n") + delimiter.join(words) + delimiter
    assert [s.sql for s in split_mysql(text)] == words


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_stay_exact_over_many_statements_and_multi_line_ones(newline):
    """Lines are counted on from one statement to the next: each is checked against a count from the top,
    with statements spanning lines, blank lines and comments between them, in every line-break style."""
    parts, expected, line = [], [], 1
    for n in range(300):
        gap = newline * (n % 3) + (f"-- note {n}{newline}" if n % 5 == 0 else "")
        body = f"INSERT INTO t{newline}VALUES ({n}, 'a{newline}b')" if n % 2 else f"SELECT {n}"
        parts.append(gap + body + ";")
        line += gap.count(newline)
        expected.append((line, body))
        line += body.count(newline)
    assert split("".join(parts)) == expected


def test_an_error_after_many_statements_names_its_own_line():
    text = "SELECT 1;\r\n" * 50 + "SELECT 'open\r\n;\r\n"
    with pytest.raises(SplitError) as raised:
        split_mysql(text)
    assert raised.value.line == 51
