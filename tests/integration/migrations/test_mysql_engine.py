"""The MySQL engine against a real MariaDB 10.11: Flyway's history layout and takeover, DELIMITER files,
the GET_LOCK lock, DDL that cannot be rolled back recorded as failed, repair, dry run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from toolkit.adapters.mysql.connection import connect
from toolkit.errors import DatabaseError, MigrationFailed, ValidationFailed
from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import discover
from toolkit.migrations.engine import current_plan, history_for, migrate, repair
from toolkit.migrations.source import load

pytestmark = pytest.mark.slow

# Flyway's own DDL for its history table on MySQL (flyway-mysql, createMetaDataTable.sql), as Flyway runs it.
FLYWAY_MYSQL_DDL = """CREATE TABLE `{schema}`.`flyway_schema_history` (
    `installed_rank` INT NOT NULL,
    `version` VARCHAR(50),
    `description` VARCHAR(200) NOT NULL,
    `type` VARCHAR(20) NOT NULL,
    `script` VARCHAR(1000) NOT NULL,
    `checksum` INT,
    `installed_by` VARCHAR(100) NOT NULL,
    `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    `execution_time` INT NOT NULL,
    `success` BOOL NOT NULL,
    -- Add the primary key as part of the CREATE TABLE statement in case `innodb_force_primary_key` is enabled
    CONSTRAINT `flyway_schema_history_pk`PRIMARY KEY (`installed_rank`)
) ENGINE=InnoDB;
CREATE INDEX `flyway_schema_history_s_idx` ON `{schema}`.`flyway_schema_history` (`success`);"""

PROCEDURE = """-- toolkit:allow=mixed-ddl-dml
DELIMITER $$
CREATE PROCEDURE add_order(IN amount INT)
BEGIN
  INSERT INTO orders (amount) VALUES (amount); -- a ; inside the body
  SELECT 'done;' AS `note;`;
END$$
DELIMITER ;
CALL add_order(7);
"""


def write(sql_dir: Path, files: dict[str, str]) -> Path:
    sql_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        (sql_dir / name).write_text(text)
    return sql_dir


def query(conn, sql: str, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def history(target):
    return history_for("mysql", target.name, "flyway_schema_history")


def run(conn, target, sql_dir: Path, **options):
    return migrate(conn, discover(sql_dir), history(target), **options)


def test_applies_in_order_with_flyway_rows_and_runs_once(mysql_conn, mysql_database, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__orders.sql": "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount INT) ENGINE=InnoDB;\n",
            "V2__procedure.sql": PROCEDURE,
            "V3__note.sql": "# a MySQL comment; with a semicolon\nCREATE TABLE `we;ird` (`a``b` TEXT DEFAULT 'it''s;\\'');\n",
        },
    )
    result = run(mysql_conn, mysql_database, sql)
    assert [s.script for s in result.applied] == ["V1__orders.sql", "V2__procedure.sql", "V3__note.sql"]
    assert query(mysql_conn, "SELECT amount FROM orders") == [(7,)]
    rows = query(
        mysql_conn,
        "SELECT installed_rank, version, description, type, script, checksum, installed_by, success "
        "FROM flyway_schema_history ORDER BY installed_rank",
    )
    sums = [flyway_checksum((sql / n).read_text()) for n in ("V1__orders.sql", "V2__procedure.sql", "V3__note.sql")]
    user = mysql_database.username
    assert rows == [
        (1, "1", "orders", "SQL", "V1__orders.sql", sums[0], user, 1),
        (2, "2", "procedure", "SQL", "V2__procedure.sql", sums[1], user, 1),
        (3, "3", "note", "SQL", "V3__note.sql", sums[2], user, 1),
    ]
    again = run(mysql_conn, mysql_database, sql)
    assert again.applied == () and again.already_applied == 3


def test_history_table_is_the_one_flyway_creates(mysql_conn, mysql_database, mariadb_server, tmp_path):
    """Column for column, type for type, keys and index: toolkit's table is Flyway's."""
    run(mysql_conn, mysql_database, write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT);\n"}))
    other = mariadb_server.new_database()
    conn = connect(other)
    try:
        with conn.cursor() as cur:
            for statement in FLYWAY_MYSQL_DDL.format(schema=other.name).split(";\n"):
                cur.execute(statement)
        shape = (
            "SELECT column_name, column_type, is_nullable, column_default, column_key FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'flyway_schema_history' ORDER BY ordinal_position"
        )
        indexes = (
            "SELECT index_name, column_name, non_unique FROM information_schema.statistics "
            "WHERE table_schema = %s AND table_name = 'flyway_schema_history' ORDER BY index_name"
        )
        assert query(mysql_conn, shape, (mysql_database.name,)) == query(conn, shape, (other.name,))
        assert query(mysql_conn, indexes, (mysql_database.name,)) == query(conn, indexes, (other.name,))
    finally:
        conn.close()


def test_flyway_made_history_is_taken_over_unchanged(mysql_conn, mysql_database, tmp_path):
    """A database Flyway migrated (its DDL, its rows, what V1 built): only V2 runs, the rows stay as Flyway
    wrote them, and status shows V1 applied."""
    sql = write(
        tmp_path / "sql",
        {
            "V1__init.sql": "CREATE TABLE customers (id INT PRIMARY KEY);\n",
            "V2__more.sql": "CREATE TABLE more (id INT);\n",
        },
    )
    with mysql_conn.cursor() as cur:
        for statement in FLYWAY_MYSQL_DDL.format(schema=mysql_database.name).split(";\n"):
            cur.execute(statement)
        cur.execute("CREATE TABLE customers (id INT PRIMARY KEY)")
        cur.execute(
            "INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', %s, 'flyway', "
            "'2024-01-02 03:04:05', 12, 1)",
            (flyway_checksum((sql / "V1__init.sql").read_text()),),
        )
    before = query(mysql_conn, "SELECT * FROM flyway_schema_history")
    result = run(mysql_conn, mysql_database, sql)
    assert [s.script for s in result.applied] == ["V2__more.sql"]
    rows = query(mysql_conn, "SELECT * FROM flyway_schema_history ORDER BY installed_rank")
    assert rows[0] == before[0] and rows[1][1] == "2" and len(rows) == 2
    plan = current_plan(mysql_conn, load(discover(sql)), history(mysql_database))
    assert [s.state for s in plan.states] == ["applied", "applied"] and plan.ok


def test_failed_ddl_migration_is_recorded_as_failed_and_needs_repair(mysql_conn, mysql_database, tmp_path):
    sql = write(
        tmp_path / "sql",
        {
            "V1__a.sql": "CREATE TABLE a (id INT);\n",
            "V2__broken.sql": "CREATE TABLE b (id INT);\nCREATE INDEX b_id ON b (id) ALGORITHM=INPLACE;\n"
            "ALTER TABLE missing ADD COLUMN x INT, ALGORITHM=INSTANT;\n",
        },
    )
    with pytest.raises(MigrationFailed) as failed:
        run(mysql_conn, mysql_database, sql)
    message = failed.value.message
    assert message.startswith("V2__broken.sql:3: migration 2 failed: ")
    assert "statements that stayed applied (line 1, 2)" in message and "1146" in message
    assert "db repair" in failed.value.hint
    rows = query(mysql_conn, "SELECT version, script, success FROM flyway_schema_history ORDER BY installed_rank")
    assert rows == [("1", "V1__a.sql", 1), ("2", "V2__broken.sql", 0)]  # Flyway's failed row
    assert query(mysql_conn, "SHOW TABLES LIKE 'b'") == [("b",)]  # DDL cannot be rolled back: it is said so
    with pytest.raises(ValidationFailed) as refused:
        run(mysql_conn, mysql_database, sql)
    assert any("recorded as failed" in p and "db repair" in p for p in refused.value.problems)
    # fixed: the file corrected, what stayed undone by hand, then repair; the next run applies it
    (sql / "V2__broken.sql").write_text("CREATE TABLE b (id INT);\n")
    query(mysql_conn, "DROP TABLE b")
    removed, _ = repair(mysql_conn, history(mysql_database), load(discover(sql)), 5)
    assert removed == ("V2__broken.sql",)
    assert [s.script for s in run(mysql_conn, mysql_database, sql).applied] == ["V2__broken.sql"]


def test_failed_row_changes_alone_roll_back_and_leave_no_row(mysql_conn, mysql_database, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT PRIMARY KEY);\n"})
    run(mysql_conn, mysql_database, sql)
    write(sql, {"V2__rows.sql": "INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\nINSERT INTO a VALUES (1);\n"})
    with pytest.raises(MigrationFailed) as failed:
        run(mysql_conn, mysql_database, sql)
    assert (
        "V2__rows.sql:3:" in failed.value.message
        and "rolled back: the row changes at line 1, 2" in failed.value.message
    )
    assert query(mysql_conn, "SELECT COUNT(*) FROM a") == [(0,)]
    assert query(mysql_conn, "SELECT COUNT(*) FROM flyway_schema_history") == [(1,)]


def test_row_changes_after_the_last_ddl_are_rolled_back(mysql_conn, mysql_database, tmp_path):
    sql = write(
        tmp_path / "sql",
        {"V1__mixed.sql": "-- toolkit:allow=mixed-ddl-dml\nCREATE TABLE a (id INT PRIMARY KEY);\n"
         "INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);\n"},
    )  # fmt: skip
    with pytest.raises(MigrationFailed) as failed:
        run(mysql_conn, mysql_database, sql)
    assert (
        "stayed applied (line 2)" in failed.value.message
        and "rolled back: the row changes at line 3" in failed.value.message
    )
    assert query(mysql_conn, "SELECT COUNT(*) FROM a") == [(0,)]
    assert query(mysql_conn, "SELECT success FROM flyway_schema_history") == [(0,)]


def test_lock_is_exclusive_with_a_bounded_wait(mysql_conn, mysql_database, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT);\n"})
    holder = connect(mysql_database)
    try:
        name = f"toolkit:{mysql_database.name}.flyway_schema_history"
        assert query(holder, "SELECT GET_LOCK(%s, 0)", (name,)) == [(1,)]
        with pytest.raises(DatabaseError, match="another migration run holds the lock") as refused:
            run(mysql_conn, mysql_database, sql, lock_timeout_seconds=1)
        assert "KILL" in refused.value.hint
    finally:
        holder.close()  # the server drops the lock with the connection
    assert [s.script for s in run(mysql_conn, mysql_database, sql).applied] == ["V1__a.sql"]


def test_eight_concurrent_runs_apply_each_migration_once(mysql_database, tmp_path):
    files = {"V1__log.sql": "CREATE TABLE applied_log (version INT);\n"}
    files |= {f"V{n}__step.sql": f"INSERT INTO applied_log VALUES ({n});\nDO SLEEP(0.02);\n" for n in range(2, 22)}
    sql = write(tmp_path / "sql", files)
    errors: list[BaseException] = []

    def one() -> None:
        conn = connect(mysql_database)
        try:
            run(conn, mysql_database, sql)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    conn = connect(mysql_database)
    try:
        assert query(conn, "SELECT COUNT(*), COUNT(DISTINCT version) FROM applied_log") == [(20, 20)]
        assert query(conn, "SELECT COUNT(*), COUNT(DISTINCT version) FROM flyway_schema_history") == [(21, 21)]
    finally:
        conn.close()


def test_dry_run_shows_the_exact_sql_and_changes_nothing(mysql_conn, mysql_database, tmp_path):
    sql = write(
        tmp_path / "sql", {"V1__orders.sql": "CREATE TABLE orders (id INT, amount INT);\n", "V2__p.sql": PROCEDURE}
    )
    result = run(mysql_conn, mysql_database, sql, dry_run=True)
    assert result.dry_run and [s.script for s in result.would_apply] == ["V1__orders.sql", "V2__p.sql"]
    assert result.would_apply[0].sql == "CREATE TABLE orders (id INT, amount INT);\n"
    body = PROCEDURE.split("DELIMITER $$\n")[1].split("$$")[0]
    assert result.would_apply[1].sql == f"DELIMITER $$\n{body}$$\nDELIMITER ;\nCALL add_order(7);\n"
    assert query(mysql_conn, "SHOW TABLES") == []  # not even the history table


def test_a_database_with_tables_and_no_history_is_refused(mysql_conn, mysql_database, tmp_path):
    query(mysql_conn, "CREATE TABLE legacy (id INT)")
    with pytest.raises(Exception, match="already holds tables or routines \\(legacy\\)"):
        run(mysql_conn, mysql_database, write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT);\n"}))


def test_lint_refuses_before_anything_runs(mysql_conn, mysql_database, tmp_path):
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT, b INT);\n"})
    run(mysql_conn, mysql_database, sql)
    write(sql, {"V2__drop.sql": "ALTER TABLE a DROP COLUMN b, ALGORITHM=INPLACE;\n"})
    with pytest.raises(ValidationFailed) as refused:
        run(mysql_conn, mysql_database, sql)
    assert any(p.startswith("V2__drop.sql:1: drop-column: DROP COLUMN a.b") for p in refused.value.problems)
    assert len(query(mysql_conn, "SHOW COLUMNS FROM a")) == 2  # nothing ran


def test_a_files_session_settings_do_not_reach_the_next_file(mysql_conn, mysql_database, tmp_path):
    """V1 turns foreign key checks off and switches database, as dump files do; V2 still runs with checks on,
    in the target database, so its orphan row is refused."""
    sql = write(
        tmp_path / "sql",
        {
            "V1__parent.sql": "SET foreign_key_checks = 0;\nCREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB;\n"
            "CREATE TABLE child (p INT, FOREIGN KEY (p) REFERENCES parent (id)) ENGINE=InnoDB;\n"
            "USE information_schema;\n",
            "V2__orphan.sql": "INSERT INTO child VALUES (42);\n",
        },
    )
    with pytest.raises(
        MigrationFailed, match=r"V2__orphan.sql:1: .*foreign key constraint fails.*\[MySQL error 1452\]"
    ):
        run(mysql_conn, mysql_database, sql)
    assert query(mysql_conn, "SELECT DATABASE(), @@SESSION.foreign_key_checks") == [(mysql_database.name, 1)]


def test_ranks_count_on_from_the_history_across_runs(mysql_conn, mysql_database, tmp_path):
    """A locked run numbers its rows itself, after the highest rank already there (a gap included)."""
    sql = write(tmp_path / "sql", {"V1__a.sql": "CREATE TABLE a (id INT);\n"})
    run(mysql_conn, mysql_database, sql)
    with mysql_conn.cursor() as cur:  # a gap, as a deleted row leaves one
        cur.execute("UPDATE flyway_schema_history SET installed_rank = 7 WHERE script = 'V1__a.sql'")
    mysql_conn.commit()
    write(
        sql, {"V2__b.sql": "CREATE TABLE b (id INT);\n", "R__v.sql": "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n"}
    )
    run(mysql_conn, mysql_database, sql)
    assert query(mysql_conn, "SELECT installed_rank, script, success FROM flyway_schema_history ORDER BY 1") == [
        (7, "V1__a.sql", 1),
        (8, "V2__b.sql", 1),
        (9, "R__v.sql", 1),
    ]


def test_a_history_row_written_behind_the_runs_back_rolls_its_file_back(mysql_conn, mysql_database, tmp_path):
    """Attack on the run's numbering: a file whose row change writes the next history row itself. The
    primary key refuses the run's row, the file's transaction rolls back whole (its own row with it), the
    file before it stays applied, and the message names the file and the key."""
    sql = write(
        tmp_path / "sql",
        {
            "V1__a.sql": "CREATE TABLE a (id INT);\n",
            "V2__sneaky.sql": (
                "INSERT INTO a VALUES (1);\n"
                "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,\n"
                "  installed_by, execution_time, success) VALUES (2, '9', 'x', 'SQL', 'x.sql', 'x', 0, 1);\n"
            ),
        },
    )
    with pytest.raises(MigrationFailed) as raised:
        run(mysql_conn, mysql_database, sql)
    assert "V2__sneaky.sql" in str(raised.value)
    assert "Duplicate entry" in str(raised.value)
    assert query(mysql_conn, "SELECT COUNT(*) FROM a") == [(0,)]
    assert query(mysql_conn, "SELECT installed_rank, script FROM flyway_schema_history ORDER BY 1") == [
        (1, "V1__a.sql")
    ]
