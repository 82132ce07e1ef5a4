"""The migration engine against a real PostgreSQL: transactions, errors with file:line, tricky SQL,
non-transactional files, per-migration timeouts, repeatables, Flyway takeover, 10,000 files."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2
import pytest

from toolkit.errors import DatabaseError, MigrationFailed, ValidationFailed
from toolkit.migrations.apply import migrate
from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import discover
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.placeholders import Placeholders
from toolkit.project.values import Value, Values

pytestmark = pytest.mark.slow

HISTORY = HistoryTable("public", "flyway_schema_history")


def write(sql_dir: Path, files: dict[str, str]) -> Path:
    sql_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        (sql_dir / name).write_bytes(text.encode("utf-8"))
    return sql_dir


def run(conn, sql_dir: Path, **options):
    return migrate(conn, discover(sql_dir), HISTORY, **options)


def query(conn, sql: str):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def history_rows(conn):
    return query(conn, "SELECT version, script, checksum, success, type FROM flyway_schema_history ORDER BY 1")


def test_dollar_quotes_strings_comments_and_do_blocks_run(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__tricky.sql": (
                "\ufeff-- a BOM, a comment; with a semicolon\r\n"
                "CREATE TABLE notes (id int PRIMARY KEY, body text);\r\n"
                "INSERT INTO notes VALUES (1, 'semi;colon'), (2, 'it''s; /* not a comment */');\r\n"
                "/* block; comment */\r\n"
                "CREATE FUNCTION note_count() RETURNS bigint LANGUAGE plpgsql AS $fn$\r\n"
                "BEGIN\r\n"
                "  RETURN (SELECT count(*) FROM notes); -- ; inside\r\n"
                "END;\r\n"
                "$fn$;\r\n"
                "DO $$ BEGIN INSERT INTO notes VALUES (3, $q$do;block$q$); END $$;\r\n"
            ),
            "V2__atomic.sql": (
                "CREATE FUNCTION first_note() RETURNS text LANGUAGE sql\n"
                "BEGIN ATOMIC\n  SELECT body FROM notes WHERE id = CASE WHEN true THEN 1 END;\nEND;\n"
            ),
        },
    )
    result = run(db_conn, sql)
    assert [s.version for s in result.applied] == ["1", "2"]
    assert query(db_conn, "SELECT body FROM notes ORDER BY id") == [
        ("semi;colon",),
        ("it's; /* not a comment */",),
        ("do;block",),
    ]
    assert query(db_conn, "SELECT note_count(), first_note()") == [(3, "semi;colon")]
    text = (sql / "V1__tricky.sql").read_text(encoding="utf-8")
    assert history_rows(db_conn)[0][:4] == ("1", "V1__tricky.sql", flyway_checksum(text), True)


def test_failure_rolls_back_and_names_file_line_and_postgres_message(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__ok.sql": "CREATE TABLE a (id int);\n",
            "V2__broken.sql": (
                "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n\nSELECT id,\n       missing_column\nFROM b;\n"
            ),
        },
    )
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    assert str(raised.value.message) == (
        'V2__broken.sql:5: migration 2 failed: column "missing_column" does not exist [SQLSTATE 42703]'
    )
    assert raised.value.exit_code == 4
    assert query(db_conn, "SELECT to_regclass('b') IS NULL") == [(True,)]  # nothing of V2 left behind
    assert [r[0] for r in history_rows(db_conn)] == ["1"]  # and no history row for it
    assert query(db_conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


@pytest.mark.parametrize("header", ["", "-- toolkit:lock_timeout=3s\n-- toolkit:statement_timeout=1min\n"])
def test_a_failing_first_statement_names_its_own_line_though_begin_rides_with_it(db_conn, tmp_path, header):
    # BEGIN and the file's timeouts are sent in one query string with the first statement: the server's
    # error position counts from BEGIN, the line must still be the statement's own
    text = header + "\n\nSELECT 1,\n       missing_column\nFROM (SELECT 1) AS x;\nCREATE TABLE never (id int);\n"
    sql = write(tmp_path / "sql", {"V1__ok.sql": "CREATE TABLE a (id int);\n", "V2__first.sql": text})
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    line = text.split("\n").index("       missing_column") + 1
    assert str(raised.value.message) == (
        f'V2__first.sql:{line}: migration 2 failed: column "missing_column" does not exist [SQLSTATE 42703]'
    )
    assert query(db_conn, "SELECT to_regclass('never') IS NULL, to_regclass('a') IS NOT NULL") == [(True, True)]
    assert [r[0] for r in history_rows(db_conn)] == ["1"]
    assert query(db_conn, "SHOW lock_timeout") == [("0",)]  # the file's timeouts were its transaction's only


def test_an_error_inside_a_do_block_names_its_own_line_and_context(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__seed.sql": (
                "-- seed\n"
                "CREATE TABLE t (id int);\n"
                "DO $$\n"
                "BEGIN\n"
                "  INSERT INTO t VALUES (1);\n"
                "  RAISE EXCEPTION 'boom %', 7;\n"
                "END $$;\n"
            ),
            "V2__more.sql": "DO LANGUAGE plpgsql $body$ DECLARE x int; BEGIN\n  x := 1 / 0;\nEND $body$;\n",
        },
    )
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    assert raised.value.message == (
        "V1__seed.sql:6: migration 1 failed: boom 7 "
        "(context: PL/pgSQL function inline_code_block line 4 at RAISE) [SQLSTATE P0001]"
    )
    (sql / "V1__seed.sql").write_text("CREATE TABLE t (id int);\n")
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    assert raised.value.message == (
        'V2__more.sql:2: migration 2 failed: division by zero (context: PL/pgSQL assignment "x := 1 / 0" '
        "PL/pgSQL function inline_code_block line 2 at assignment) [SQLSTATE 22012]"
    )


def test_non_transactional_file_runs_concurrently_and_a_failure_blocks_until_repair(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__table.sql": "CREATE TABLE t (id int, x int);\n",
            "V2__index.sql": (
                "-- toolkit:transaction=false\n"
                "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"
                "CREATE INDEX CONCURRENTLY t_x ON t (no_such);\n"
            ),
        },
    )
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    assert raised.value.message.startswith('V2__index.sql:3: migration 2 failed: column "no_such" does not exist')
    assert "outside a transaction" in raised.value.hint and "toolkit db repair" in raised.value.hint
    assert query(db_conn, "SELECT to_regclass('t_id') IS NOT NULL") == [(True,)]  # the first one stays
    assert [(r[0], r[3]) for r in history_rows(db_conn)] == [("1", True), ("2", False)]

    (sql / "V2__index.sql").write_text("-- toolkit:transaction=false\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n")
    with pytest.raises(ValidationFailed, match="version 2 failed in an earlier run"):
        run(db_conn, sql)
    with db_conn.cursor() as cur:
        assert HISTORY.delete_failed(cur) == ["V2__index.sql"]
    assert [s.script for s in run(db_conn, sql).applied] == ["V2__index.sql"]


def test_statement_needing_no_transaction_is_refused_before_anything_runs(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {"V1__a.sql": "CREATE TABLE a (id int);\n", "V2__vac.sql": "-- tidy\nVACUUM a;\n"},
    )
    with pytest.raises(ValidationFailed) as raised:
        run(db_conn, sql)
    assert "V2__vac.sql:2: `VACUUM a …` cannot run inside a transaction" in str(raised.value)
    assert query(db_conn, "SELECT to_regclass('a') IS NULL") == [(True,)]


def test_a_concurrent_index_behind_a_comment_is_refused_before_anything_runs(db_conn, tmp_path):
    sql = write(
        tmp_path / "sql",
        {"V1__a.sql": "CREATE TABLE a (id int);\n", "V2__i.sql": "CREATE /* fast */ INDEX CONCURRENTLY i ON a (id);\n"},
    )
    with pytest.raises(ValidationFailed) as raised:
        run(db_conn, sql)
    assert "V2__i.sql:1: `CREATE /* fast */ …` cannot run inside a transaction" in str(raised.value)
    assert query(db_conn, "SELECT to_regclass('a') IS NULL") == [(True,)]


def test_lock_timeout_is_set_per_migration(db_conn, database, tmp_path):
    run(db_conn, write(tmp_path / "sql", {"V1__t.sql": "CREATE TABLE busy (id int);\n"}))
    blocker = psycopg2.connect(**database.connect_kwargs())
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE busy IN ACCESS SHARE MODE")  # held: ALTER TABLE must wait for it
        write(
            tmp_path / "sql",
            {"V2__alter.sql": "-- toolkit:lock_timeout=300ms\nALTER TABLE busy ADD COLUMN note text;\n"},
        )
        started = time.monotonic()
        with pytest.raises(MigrationFailed, match="V2__alter.sql:2: migration 2 failed: canceling statement due"):
            run(db_conn, tmp_path / "sql")
        assert time.monotonic() - started < 5
    finally:
        blocker.close()
    assert query(db_conn, "SHOW lock_timeout") == [("0",)]  # SET LOCAL: the session is untouched
    assert [s.version for s in run(db_conn, tmp_path / "sql").applied] == ["2"]


def test_repeatables_rerun_when_changed_and_placeholders_are_filled(db_conn, tmp_path):
    values = Values("dev", {"greeting": Value("greeting", "hello", "test")})
    sql = write(
        tmp_path / "sql",
        {
            "V1__t.sql": "CREATE TABLE t (id int);\n",
            "R__view.sql": "CREATE OR REPLACE VIEW v AS SELECT '${greeting}'::text AS g;\n",
        },
    )
    first = run(db_conn, sql, placeholders=Placeholders(values))
    assert [s.script for s in first.applied] == ["V1__t.sql", "R__view.sql"]
    assert query(db_conn, "SELECT g FROM v") == [("hello",)]
    assert run(db_conn, sql, placeholders=Placeholders(values)).applied == ()
    other = Values("dev", {"greeting": Value("greeting", "hi", "test")})
    assert [s.script for s in run(db_conn, sql, placeholders=Placeholders(other)).applied] == ["R__view.sql"]
    assert query(db_conn, "SELECT g FROM v") == [("hi",)]


def test_dry_run_changes_nothing_and_masks_secrets(db_conn, tmp_path):
    values = Values("dev", {"pw": Value("pw", "very-secret-pw", "test", sensitive=True)})
    sql = write(tmp_path / "sql", {"V1__role.sql": "CREATE TABLE t (pw text DEFAULT '${pw}');\n"})
    result = run(db_conn, sql, placeholders=Placeholders(values), dry_run=True)
    assert result.dry_run and result.applied == ()
    assert result.would_apply[0].sql == "CREATE TABLE t (pw text DEFAULT '***');\n"
    assert query(db_conn, "SELECT to_regclass('flyway_schema_history') IS NULL, to_regclass('t') IS NULL") == [
        (True, True)
    ]


def test_a_database_flyway_migrated_is_taken_over_without_a_baseline(db_conn, tmp_path):
    first = "CREATE TABLE a (id int);\r\n"
    sql = write(tmp_path / "sql", {"V1__a.sql": first, "V1_1__b.sql": "CREATE TABLE b (id int);\n"})
    with db_conn.cursor() as cur:
        HISTORY.create(cur)  # the layout Flyway creates, with one row as Flyway writes it
        cur.execute("CREATE TABLE a (id int)")
        cur.execute(
            "INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', %s, 'flyway', now(), 5, true)",
            (flyway_checksum(first),),
        )
    result = run(db_conn, sql)
    assert [s.script for s in result.applied] == ["V1_1__b.sql"] and result.already_applied == 1
    assert query(db_conn, 'SELECT version FROM "flyway_schema_history_toolkit"') == [(1,)]


def test_a_version_flyway_undid_runs_again(db_conn, tmp_path):
    files = {"V1__a.sql": "CREATE TABLE a (id int);\n", "V2__b.sql": "CREATE TABLE b (id int);\n"}
    sql = write(tmp_path / "sql", {**files, "U2__b.sql": "DROP TABLE b;\n"})
    with db_conn.cursor() as cur:
        HISTORY.create(cur)
        cur.execute("CREATE TABLE a (id int)")  # V2 ran, then `flyway undo` dropped b again
        rows = [
            (0, None, "<< Flyway Schema Creation >>", "SCHEMA", '"public"', None),
            (1, "1", "a", "SQL", "V1__a.sql", flyway_checksum(files["V1__a.sql"])),
            (2, "2", "b", "SQL", "V2__b.sql", flyway_checksum(files["V2__b.sql"])),
            (3, "2", "b", "UNDO_SQL", "U2__b.sql", flyway_checksum("DROP TABLE b;\n")),
        ]
        for values in rows:
            cur.execute(
                "INSERT INTO flyway_schema_history VALUES (%s, %s, %s, %s, %s, %s, 'flyway', now(), 1, true)", values
            )
    result = run(db_conn, sql)
    assert [s.script for s in result.applied] == ["V2__b.sql"] and result.already_applied == 1
    assert query(db_conn, "SELECT to_regclass('b') IS NOT NULL") == [(True,)]


def test_a_history_row_whose_version_does_not_parse_is_named(db_conn, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id int);\n"})
    with db_conn.cursor() as cur:
        HISTORY.create(cur)
        cur.execute(
            "INSERT INTO flyway_schema_history VALUES (1, '1.0-beta', 'a', 'SQL', 'V1.0-beta__a.sql', 1, 'x', now(), 1, true)"
        )
    with pytest.raises(DatabaseError) as raised:
        run(db_conn, sql)
    assert raised.value.exit_code == 3
    assert raised.value.message == (
        '"public"."flyway_schema_history" row 1 (V1.0-beta__a.sql) has version \'1.0-beta\', which is not a '
        "version (digits separated by '.'); toolkit cannot tell what is applied"
    )
    assert "WHERE installed_rank = 1" in raised.value.hint


def test_an_edited_applied_file_stops_the_run(db_conn, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id int);\n"})
    run(db_conn, sql)
    (sql / "V1__a.sql").write_text("CREATE TABLE a (id bigint);\n")
    (sql / "V2__b.sql").write_text("CREATE TABLE b (id int);\n")
    with pytest.raises(ValidationFailed, match="V1__a.sql: changed after it was applied"):
        run(db_conn, sql)
    (sql / "V1__a.sql").write_text("CREATE TABLE a (id int);\r\n")  # only line endings: same checksum
    assert [s.script for s in run(db_conn, sql).applied] == ["V2__b.sql"]


def test_destructive_change_is_refused_without_its_annotation(db_conn, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id int, old text);\n"})
    run(db_conn, sql)
    (sql / "V2__drop.sql").write_text("ALTER TABLE a DROP COLUMN old;\n")
    with pytest.raises(ValidationFailed, match="V2__drop.sql:1: drop-column: DROP COLUMN a.old"):
        run(db_conn, sql)
    (sql / "V2__drop.sql").write_text("-- toolkit:allow=drop-column\nALTER TABLE a DROP COLUMN old;\n")
    assert [s.version for s in run(db_conn, sql).applied] == ["2"]


def test_ten_thousand_files_in_one_pass(db_conn, tmp_path):
    sql = tmp_path / "sql"
    sql.mkdir()
    for n in range(1, 10_001):
        (sql / f"V{n}__step_{n}.sql").write_text(f"SELECT {n};\n")
    started = time.monotonic()
    result = run(db_conn, sql)
    applying = time.monotonic() - started
    assert len(result.applied) == 10_000 and result.applied[-1].version == "10000"
    started = time.monotonic()
    again = run(db_conn, sql)
    planning = time.monotonic() - started
    assert again.applied == () and again.already_applied == 10_000
    assert planning < 10, f"planning 10,000 applied files took {planning:.1f}s"
    assert applying < 180, f"applying took {applying:.1f}s"


def test_a_sensitive_value_in_a_postgres_error_is_masked(db_conn, tmp_path):
    from toolkit.support import masking

    values = Values("dev", {"token": Value("token", "tok-9f8e7d6c", "output infra.token", sensitive=True)})
    sql = write(tmp_path / "sql", {"V1__bad.sql": "SELECT '${token}'::int;\n"})
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql, placeholders=Placeholders(values))
    # PostgreSQL echoes the value back; the failure is masked where it is made, not only by the printers
    assert "tok-9f8e7d6c" not in raised.value.message
    assert (
        raised.value.message
        == masking.mask(raised.value.message)
        == ('V1__bad.sql:1: migration 1 failed: invalid input syntax for type integer: "***" [SQLSTATE 22P02]')
    )


def test_session_settings_of_one_migration_do_not_leak_into_the_next(db_conn, database, pg_server, tmp_path):
    other = f"{database.username}_other"
    admin = psycopg2.connect(**pg_server.superuser_dsn(database.name))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{other}"; GRANT "{other}" TO "{database.username}"')
    admin.close()
    sql = write(
        tmp_path / "sql",
        {
            "V1__elsewhere.sql": f'CREATE SCHEMA other;\nSET search_path TO other;\nSET ROLE "{other}";\n',
            "V2__t.sql": "CREATE TABLE t (id int);\n",
            "V3__plain.sql": "-- toolkit:transaction=false\nSET search_path TO other;\nSET work_mem = '7MB';\n",
            "V4__u.sql": "CREATE TABLE u (id int);\n",
        },
    )
    assert [s.version for s in run(db_conn, sql).applied] == ["1", "2", "3", "4"]
    assert query(db_conn, "SELECT to_regclass('public.t') IS NOT NULL, to_regclass('public.u') IS NOT NULL") == [
        (True, True)
    ]
    assert query(db_conn, "SELECT DISTINCT installed_by FROM flyway_schema_history") == [(database.username,)]
    assert query(db_conn, "SELECT current_user, current_setting('search_path'), current_setting('work_mem')") == [
        (database.username, '"$user", public', "4MB")
    ]
    # the migration lock's own session setting survives the resets
    assert query(db_conn, "SHOW client_connection_check_interval") == [("1s",)]


def test_ranks_count_on_from_the_history_across_runs_and_kinds(db_conn, tmp_path):
    """A locked run numbers its rows itself: they follow the rows already there (a gap included), one
    per file, transactional or not, repeatable or versioned."""
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id int);\n"})
    run(db_conn, sql)
    with db_conn.cursor() as cur:  # a gap, as a deleted row leaves one
        cur.execute("UPDATE flyway_schema_history SET installed_rank = 7 WHERE script = 'V1__a.sql'")
    write(
        sql,
        {
            "V2__b.sql": "CREATE TABLE b (id int);\n",
            "V3__c.sql": "-- toolkit:transaction=false\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n",
            "R__v.sql": "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
        },
    )
    run(db_conn, sql)
    assert query(db_conn, "SELECT installed_rank, script, success FROM flyway_schema_history ORDER BY 1") == [
        (7, "V1__a.sql", True),
        (8, "V2__b.sql", True),
        (9, "V3__c.sql", True),
        (10, "R__v.sql", True),
    ]


def test_a_history_row_written_behind_the_runs_back_rolls_its_file_back(db_conn, tmp_path):
    """Attack on the run's own numbering: a file that writes the next history row itself (as something
    not holding the migration lock might). The primary key refuses the run's row, the file's transaction
    rolls back whole, the files before it stay applied, and the message names the file and the key."""
    sql = write(
        tmp_path / "sql",
        {
            "V1__a.sql": "CREATE TABLE a (id int);\n",
            "V2__sneaky.sql": (
                "CREATE TABLE b (id int);\n"
                "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,\n"
                "  installed_by, execution_time, success) VALUES (2, '9', 'x', 'SQL', 'x.sql', 'x', 0, true);\n"
            ),
        },
    )
    with pytest.raises(MigrationFailed) as raised:
        run(db_conn, sql)
    assert "V2__sneaky.sql" in str(raised.value)
    assert "flyway_schema_history_pk" in str(raised.value)
    assert query(db_conn, "SELECT to_regclass('b') IS NULL, to_regclass('a') IS NOT NULL") == [(True, True)]
    assert query(db_conn, "SELECT installed_rank, script FROM flyway_schema_history ORDER BY 1") == [(1, "V1__a.sql")]
