"""Flyway's behaviour where teams rely on it, against a real PostgreSQL: COPY … FROM stdin with inline data,
the search_path, SQL_BASELINE rows, built-in placeholders, descriptions kept exactly, and a schema with
tables but no history refused."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from toolkit.errors import GuardRefused, MigrationFailed
from toolkit.migrations.apply import migrate
from toolkit.migrations.discovery import discover
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.placeholders import Placeholders

pytestmark = pytest.mark.slow

HISTORY = HistoryTable("public", "flyway_schema_history")


def write(sql_dir: Path, files: dict[str, str]) -> Path:
    sql_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        (sql_dir / name).write_bytes(text.encode("utf-8"))
    return sql_dir


def query(conn, sql: str):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_copy_from_stdin_runs_its_inline_data_and_what_follows(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__seed.sql": (
                "CREATE TABLE region (id int PRIMARY KEY, name text, note text);\n"
                "COPY region (id, name, note) FROM stdin;\n"
                "1\tNorth; and more\tit's\n"
                "2\t${label}\t\\N\n"
                "3\t$$ not a body\t/* not a comment\n"
                "\\.\n"
                "INSERT INTO region VALUES (4, 'after', NULL);\n"
            ),
            "V2__csv.sql": 'COPY region FROM STDIN WITH (FORMAT csv);\r\n5,csv,"a;b"\r\n\\.\r\n',
        },
    )
    result = migrate(db_conn, discover(sql), HISTORY, placeholders=Placeholders(constants={"label": "South"}))
    assert [s.version for s in result.applied] == ["1", "2"]
    assert query(db_conn, "SELECT id, name, note FROM region ORDER BY id") == [
        (1, "North; and more", "it's"),
        (2, "South", None),
        (3, "$$ not a body", "/* not a comment"),
        (4, "after", None),
        (5, "csv", "a;b"),
    ]


def test_a_bad_copy_row_names_its_own_line_and_rolls_the_file_back(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {"V1__seed.sql": "CREATE TABLE n (id int);\nCOPY n FROM stdin;\n1\nnot a number\n\\.\n"},
    )
    with pytest.raises(MigrationFailed) as raised:
        migrate(db_conn, discover(sql), HISTORY)
    assert raised.value.message.startswith(
        'V1__seed.sql:4: migration 1 failed: invalid input syntax for type integer: "not a number"'
    )
    assert query(db_conn, "SELECT to_regclass('n') IS NULL") == [(True,)]


def test_dry_run_shows_the_copy_data_as_a_psql_script_would(db_conn, tmp_path):
    sql = write(tmp_path / "sql", {"V1__seed.sql": "CREATE TABLE n (id int);\nCOPY n FROM stdin;\n1\n2\n\\.\n"})
    result = migrate(db_conn, discover(sql), HISTORY, dry_run=True)
    assert result.would_apply[0].sql == "CREATE TABLE n (id int);\nCOPY n FROM stdin;\n1\n2\n\\.\n"


def test_the_default_schema_comes_first_in_the_search_path_for_every_file(db_conn, tmp_path):
    history = HistoryTable("app", "flyway_schema_history")
    sql = write(
        tmp_path / "sql",
        {
            "V1__t.sql": "CREATE TABLE t (id int);\n",
            "V2__elsewhere.sql": "SET search_path TO public;\nCREATE TABLE p (id int);\n",
            "V3__u.sql": "CREATE TABLE u (id int);\nINSERT INTO u SELECT count(*) FROM t;\n",
        },
    )
    migrate(db_conn, discover(sql), history)
    assert query(db_conn, "SELECT to_regclass('app.t') IS NOT NULL, to_regclass('app.u') IS NOT NULL") == [(True, True)]
    assert query(db_conn, "SELECT to_regclass('public.p') IS NOT NULL, to_regclass('public.t') IS NULL") == [
        (True, True)
    ]
    assert query(db_conn, "SHOW search_path") == [('"$user", public',)]  # the session's own again, as Flyway


def flyway_history(conn, rows):
    """A history table as Flyway writes it (its own DDL, rows as Flyway records them)."""
    with conn.cursor() as cur:
        cur.execute(
            """CREATE TABLE flyway_schema_history (
                 installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL,
                 type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
                 installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
                 execution_time INT NOT NULL, success BOOLEAN NOT NULL,
                 CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank))"""
        )
        for rank, (version, description, type_, script, checksum) in enumerate(rows, start=1):
            cur.execute(
                "INSERT INTO flyway_schema_history VALUES (%s, %s, %s, %s, %s, %s, 'flyway', now(), 3, true)",
                (rank, version, description, type_, script, checksum),
            )


def test_a_sql_baseline_row_covers_the_versions_up_to_it(db_conn, tmp_path):
    from toolkit.migrations.checksum import flyway_checksum

    db_conn.autocommit = True
    with db_conn.cursor() as cur:
        cur.execute("CREATE TABLE a (id int); CREATE TABLE b (id int)")
    base = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n"
    flyway_history(db_conn, [("2", "base", "SQL_BASELINE", "B2__base.sql", flyway_checksum(base))])
    sql = write(
        tmp_path / "sql",
        {
            "V1__a.sql": "CREATE TABLE a (id int);\n",
            "V2__b.sql": "CREATE TABLE b (id int);\n",
            "V3__c.sql": "CREATE TABLE c (id int);\n",
        },
    )
    result = migrate(db_conn, discover(sql), HISTORY)
    assert [s.script for s in result.applied] == ["V3__c.sql"]


def test_a_repeatable_flyway_recorded_with_a_trailing_space_does_not_run_again(db_conn, tmp_path):
    from toolkit.migrations.checksum import flyway_checksum

    db_conn.autocommit = True
    view = "CREATE OR REPLACE VIEW one AS SELECT 1 AS x;\n"
    with db_conn.cursor() as cur:
        cur.execute(view)
    flyway_history(db_conn, [(None, "views ", "SQL", "R__views_.sql", flyway_checksum(view))])
    sql = write(tmp_path / "sql", {"R__views_.sql": view, "V1__.sql": "CREATE TABLE t (id int);\n"})
    result = migrate(db_conn, discover(sql), HISTORY)
    assert [s.script for s in result.applied] == ["V1__.sql"]
    assert query(db_conn, "SELECT description FROM flyway_schema_history ORDER BY installed_rank") == [
        ("views ",),
        ("",),
    ]


def test_flyway_built_in_placeholders(db_conn, tmp_path, database):
    sql = write(
        tmp_path / "sql",
        {
            "V1__facts.sql": (
                "CREATE TABLE facts AS SELECT '${flyway:filename}'::text AS file, '${flyway:user}'::text AS who,\n"
                "  '${FLYWAY:DATABASE}'::text AS db, '${flyway:table}'::text AS tbl, '${flyway:defaultSchema}'::text AS s,\n"
                "  '${flyway:timestamp}'::text AS at, '${flyway:workingDirectory}'::text AS cwd;\n"
            )
        },
    )
    builtins = {
        "flyway:defaultSchema": "public",
        "flyway:user": database.username,
        "flyway:database": database.name,
        "flyway:timestamp": "2026-01-02 03:04:05",
        "flyway:workingDirectory": os.getcwd(),
        "flyway:table": "flyway_schema_history",
    }
    migrate(db_conn, discover(sql), HISTORY, placeholders=Placeholders(builtins=builtins))
    ((file, who, db, tbl, schema, at, cwd),) = query(db_conn, "SELECT * FROM facts")
    assert (file, who, db, tbl, schema, cwd) == (
        "V1__facts.sql",
        database.username,
        database.name,
        "flyway_schema_history",
        "public",
        os.getcwd(),
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", at)


def test_a_schema_with_tables_and_no_history_is_refused_and_pointed_at_baseline(db_conn, tmp_path):
    db_conn.autocommit = True
    with db_conn.cursor() as cur:
        cur.execute("CREATE TABLE customers (id int); CREATE VIEW active AS SELECT 1 AS x")
    sql = write(tmp_path / "sql", {"V1__customers.sql": "CREATE TABLE customers (id int);\n"})
    for dry_run in (True, False):
        with pytest.raises(GuardRefused) as raised:
            migrate(db_conn, discover(sql), HISTORY, environment="qa", dry_run=dry_run)
        assert raised.value.exit_code == 3
        assert raised.value.message == (
            'schema "public" already holds tables or other objects (active, customers) but '
            '"public"."flyway_schema_history" records no migration: they were not made by these migrations, and '
            "running V1 would build them a second time"
        )
        assert "`toolkit db baseline qa --version V`" in raised.value.hint
    assert query(db_conn, "SELECT to_regclass('flyway_schema_history') IS NULL") == [(True,)]  # nothing written

    from toolkit.migrations.discovery import Version
    from toolkit.migrations.repair import baseline

    baseline(db_conn, HISTORY, Version.parse("1"), 5, where="qa")
    (sql / "V2__orders.sql").write_text("CREATE TABLE orders (id int);\n")
    assert [s.script for s in migrate(db_conn, discover(sql), HISTORY).applied] == ["V2__orders.sql"]


def test_objects_of_other_schemas_do_not_count(db_conn, tmp_path):
    sql = write(tmp_path / "sql", {"V1__t.sql": "CREATE TABLE t (id int);\n"})
    db_conn.autocommit = True
    with db_conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE scratch (id int); CREATE SCHEMA other; CREATE TABLE other.x (id int)")
    assert [s.script for s in migrate(db_conn, discover(sql), HISTORY).applied] == ["V1__t.sql"]
