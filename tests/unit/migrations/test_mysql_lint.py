"""The MySQL lint: each rule found where it matters and not elsewhere; allow directives; DDL/DML classes."""

from __future__ import annotations

import pytest

from tests.unit.migrations.sources import source
from toolkit.migrations.engine import lint_sources, run_findings
from toolkit.migrations.lint import LintPolicy
from toolkit.migrations.mysql_lint import lint_mysql
from toolkit.migrations.mysql_statements import changes_rows, commits_implicitly

MYSQL = LintPolicy(engine="mysql")


def rules(text: str) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in lint_mysql([source("V2__x.sql", text)])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT;", []),
        ("ALTER TABLE t ADD COLUMN c INT;", [(1, "algorithm")]),
        ("ALTER TABLE t ADD INDEX i (c), ALGORITHM=INPLACE, LOCK=NONE;", []),
        ("CREATE INDEX i ON t (c);", [(1, "algorithm")]),
        ("CREATE INDEX i ON t (c) ALGORITHM=INPLACE;", []),
        ("ALTER TABLE t MODIFY c BIGINT;", [(1, "table-copy")]),
        ("ALTER TABLE t CHANGE COLUMN c d INT, ALGORITHM=INPLACE;", [(1, "table-copy")]),
        ("ALTER TABLE t ENGINE=InnoDB, ALGORITHM=COPY;", [(1, "table-copy")]),
        ("ALTER TABLE `t` DROP COLUMN `c`, ALGORITHM=INPLACE;", [(1, "drop-column")]),
        ("ALTER TABLE t DROP c, ALGORITHM=INPLACE;", [(1, "drop-column")]),
        ("ALTER TABLE t DROP INDEX i, DROP FOREIGN KEY f, ALGORITHM=INPLACE;", []),
        ("DROP TABLE a, b;", [(1, "drop-table")]),
        ("DROP TEMPORARY TABLE tmp;", []),
        ("TRUNCATE TABLE t;", [(1, "truncate")]),
        ("RENAME TABLE a TO b;", [(1, "rename")]),
        ("ALTER TABLE t RENAME COLUMN a TO b, ALGORITHM=INSTANT;", [(1, "rename")]),
        ("INSERT INTO t VALUES ('DROP TABLE x; ALTER TABLE y DROP c');", []),  # words in strings are data
        ("CREATE TABLE n (id INT);\nALTER TABLE n ADD c INT;\nDROP TABLE n;", []),  # new in this file
        ("CREATE TABLE IF NOT EXISTS n (id INT);\nDROP TABLE n;", [(2, "drop-table")]),
        ("CREATE TABLE n (id INT);\nINSERT INTO n VALUES (1);", [(2, "mixed-ddl-dml")]),
        ("UPDATE t SET a = 1;\nDELETE FROM t WHERE a = 2;", []),
        ("CREATE TEMPORARY TABLE x (id INT);\nINSERT INTO x VALUES (1);", []),
    ],
)
def test_rules(text, expected):
    assert rules(text) == expected


def test_allow_directive_and_severity_as_for_postgres():
    src = source("V3__y.sql", "-- toolkit:allow=drop-column\nALTER TABLE t DROP COLUMN c, ALGORITHM=INPLACE;\n")
    (finding,) = lint_mysql([src])
    assert finding.allowed and not finding.refused
    warned = lint_mysql([source("V4__z.sql", "TRUNCATE t;")], policy=LintPolicy(severity={"truncate": "warning"}))
    assert not warned[0].refused


def test_a_mysql_policy_routes_the_shared_lint_entry_points():
    src = source("V2__x.sql", "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nTRUNCATE t;\n")
    assert [(f.line, f.rule) for f in lint_sources([src], policy=MYSQL)] == [(4, "truncate")]
    assert [(f.line, f.rule) for f in run_findings([src], MYSQL)] == [(4, "truncate")]


@pytest.mark.parametrize(
    ("sql", "ddl", "dml"),
    [
        ("CREATE TABLE t (id INT)", True, False),
        ("/*!40101 ALTER TABLE t ENGINE=InnoDB */", True, False),
        ("create temporary table t (id int)", False, False),
        ("TRUNCATE t", True, False),
        ("INSERT INTO t VALUES (1)", False, True),
        ("REPLACE INTO t VALUES (1)", False, True),
        ("WITH x AS (SELECT 1) UPDATE t SET a = 1", False, True),
        ("SELECT 1", False, False),
        ("LOCK TABLES t WRITE", True, False),
    ],
)
def test_statement_classes(sql, ddl, dml):
    assert commits_implicitly(sql) is ddl and changes_rows(sql) is dml
