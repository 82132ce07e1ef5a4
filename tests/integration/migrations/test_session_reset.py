"""The session reset is skipped only after a file that cannot have changed the session: every way a file
(or code it fires) can set a GUC, the search_path or the role must still not reach the next file.

Each case runs: a probe of the session, the leaking file(s), the same probe again, and asserts the two
probes saw the same session. Stored code made by an earlier run (a function, trigger, view, default,
rule, check, event trigger) is fired by a file whose own text names nothing risky.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from toolkit.migrations.apply import migrate
from toolkit.migrations.discovery import discover
from toolkit.migrations.history import HistoryTable
from toolkit.migrations.placeholders import Placeholders

pytestmark = pytest.mark.slow

HISTORY = HistoryTable("public", "flyway_schema_history")
SETS = "set_config('work_mem', '7MB', false)"
PLPGSQL_SETS = f"CREATE FUNCTION leak() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM {SETS}; RETURN NEW; END$$;"


def probe(n: int) -> str:
    """A file whose text names nothing risky: it records the session it runs in, and creates a table
    unqualified (where the search_path puts it)."""
    return (
        f"CREATE TABLE public.probe_{n} AS SELECT current_user::text AS who, current_setting('search_path') AS path,\n"
        "  current_setting('work_mem') AS mem, current_setting('lock_timeout') AS lock,\n"
        "  current_setting('statement_timeout') AS stmt;\n"
        f"CREATE TABLE made_by_{n} (id int);\n"
    )


CASES = {
    "plain SET of the search_path": ([], ["CREATE SCHEMA elsewhere;\nSET search_path TO elsewhere;\n"]),
    "RESET of the run's search_path": ([], ["RESET search_path;\n"]),
    "SET of a GUC": ([], ["SET work_mem = '7MB';\n"]),
    "set_config": ([], [f"SELECT {SETS};\n"]),
    "set_config qualified, upper case": ([], ["SELECT PG_CATALOG.SET_CONFIG('work_mem', '7MB', false);\n"]),
    "set_config spelt with Unicode escapes": ([], ["SELECT U&\"set\\005fconfig\"('work_mem', '7MB', false);\n"]),
    "DO block building its SET": ([], ["DO $$BEGIN EXECUTE 'SE' || 'T work_mem = ''7MB'''; END$$;\n"]),
    "ts_stat running built SQL": (
        [],
        ["SELECT * FROM ts_stat('SELECT to_tsvector(set_' || 'config(''work_mem'', ''7MB'', false))');\n"],
    ),
    "a function made earlier in the run": (
        [],
        [
            f"CREATE FUNCTION leak() RETURNS void LANGUAGE plpgsql AS $$BEGIN PERFORM {SETS}; END$$;\n",
            "SELECT leak();\n",
        ],
    ),
    "a function made by an earlier run": (
        [f"CREATE FUNCTION leak() RETURNS void LANGUAGE sql AS $$SELECT {SETS}$$;\n"],
        ["SELECT leak();\n"],
    ),
    "a trigger made by an earlier run": (
        [
            "CREATE TABLE t (id int);\n"
            + PLPGSQL_SETS
            + "\nCREATE TRIGGER t_leak BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION leak();\n"
        ],
        ["INSERT INTO t VALUES (1);\n"],
    ),
    "a view made by an earlier run": (
        [f"CREATE VIEW v AS SELECT {SETS} AS s;\n"],
        ["CREATE TABLE c AS SELECT * FROM v;\n"],
    ),
    "a column default made by an earlier run": (
        [f"CREATE TABLE d (id int, s text DEFAULT {SETS});\n"],
        ["INSERT INTO d (id) VALUES (1);\n"],
    ),
    "a check constraint made by an earlier run": (
        [f"CREATE TABLE k (id int CHECK ({SETS} IS NOT NULL));\n"],
        ["INSERT INTO k VALUES (1);\n"],
    ),
    "a rule made by an earlier run": (
        [
            f"CREATE TABLE r (id int);\nCREATE TABLE r_log (s text);\nCREATE RULE r_rule AS ON INSERT TO r DO ALSO INSERT INTO r_log VALUES ({SETS});\n"
        ],
        ["INSERT INTO r VALUES (1);\n"],
    ),
}


def write(sql_dir: Path, files: dict[str, str]) -> Path:
    sql_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        (sql_dir / name).write_text(text, encoding="utf-8")
    return sql_dir


def probes(conn, *numbers: int) -> list[tuple]:
    with conn.cursor() as cur:
        out = []
        for n in numbers:
            cur.execute(
                f"SELECT who, path, mem, lock, stmt, to_regclass('public.made_by_{n}') IS NOT NULL FROM probe_{n}"
            )
            out.append(cur.fetchone())
        return out


def run_case(conn, sql: Path, earlier: list[str], leaking: list[str], placeholders=None) -> None:
    files = {f"V{i}__earlier_{i}.sql": text for i, text in enumerate(earlier, start=1)}
    if files:
        write(sql, files)
        migrate(conn, discover(sql), HISTORY)
    base = len(files) + 1
    files = {f"V{base}__probe_before.sql": probe(1)}
    for i, text in enumerate(leaking, start=base + 1):
        files[f"V{i}__leak_{i}.sql"] = text
    files[f"V{base + len(leaking) + 1}__probe_after.sql"] = probe(2)
    write(sql, files)
    migrate(conn, discover(sql), HISTORY, placeholders=placeholders)


@pytest.mark.parametrize("case", list(CASES))
def test_nothing_a_file_does_to_the_session_reaches_the_next_file(db_conn, tmp_path, case):
    earlier, leaking = CASES[case]
    run_case(db_conn, tmp_path / "sql", earlier, leaking)
    before, after = probes(db_conn, 1, 2)
    assert after == before
    assert before[2] == "4MB" and before[5]  # the probe saw the run's own session, its table in public


def test_a_placeholder_holding_a_set_is_seen_after_filling(db_conn, tmp_path):
    placeholders = Placeholders(constants={"prelude": "SET work_mem = '7MB'"})
    run_case(db_conn, tmp_path / "sql", [], ["${prelude};\n"], placeholders)
    before, after = probes(db_conn, 1, 2)
    assert after == before and before[2] == "4MB"


def test_an_event_trigger_fired_by_plain_ddl_does_not_leak(db_conn, database, pg_server, tmp_path):
    admin = psycopg2.connect(**pg_server.superuser_dsn(database.name))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA hooks; CREATE FUNCTION hooks.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS "
            f"$$BEGIN PERFORM {SETS}; END$$; CREATE EVENT TRIGGER leak ON ddl_command_end EXECUTE FUNCTION hooks.on_ddl()"
        )
    admin.close()
    run_case(db_conn, tmp_path / "sql", [], ["CREATE TABLE plain (id int);\n"])
    before, after = probes(db_conn, 1, 2)
    assert after == before and before[2] == "4MB"
