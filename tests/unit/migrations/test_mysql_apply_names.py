"""Pure parts of the MySQL engine: the GET_LOCK name and durations as MySQL takes them."""

from __future__ import annotations

import pytest

from toolkit.migrations.mysql_apply import _seconds, lock_name
from toolkit.migrations.mysql_history import MySQLHistoryTable, quote


def test_lock_names_fit_mysqls_64_characters_and_differ_per_table():
    short = lock_name(MySQLHistoryTable("orders", "flyway_schema_history"))
    assert short == "toolkit:orders.flyway_schema_history"
    long_a = lock_name(MySQLHistoryTable("a" * 64, "flyway_schema_history"))
    long_b = lock_name(MySQLHistoryTable("a" * 63 + "b", "flyway_schema_history"))
    assert len(long_a) <= 64 and len(long_b) <= 64 and long_a != long_b


def test_durations():
    assert [_seconds(t, 10) for t in ("10s", "2min", "1h", "500ms", "7", "nonsense")] == [10, 120, 3600, 1, 7, 10]


def test_identifiers_are_backquoted_with_backquotes_doubled():
    assert quote("odd`name") == "`odd``name`"


@pytest.mark.parametrize(
    ("text", "restores"),
    [
        ("CREATE TABLE dataset (set_up INT, reset_at INT);\nINSERT INTO dataset VALUES (1, 2);\n", False),
        ("SET foreign_key_checks = 0;\n", True),
        ("SET@@session.sql_mode = '';\n", True),
        ("USE`other`;\n", True),
        ("PREPARE s FROM 'SET sql_mode = 1';\nEXECUTE s;\n", True),
        ("/*!40101 SET NAMES utf8mb4 */;\n", True),
        ("CALL p();\n", True),
        ("SELECT @@sql_mode INTO @m;\n", True),
    ],
)
def test_a_file_that_could_change_the_session_is_followed_by_the_restore(text, restores):
    from toolkit.migrations.mysql_apply import _CHANGES_SESSION

    assert bool(_CHANGES_SESSION.search(text)) is restores
