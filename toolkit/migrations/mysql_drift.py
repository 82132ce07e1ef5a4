"""Drift on MySQL: the live database's catalog (information_schema) against what its applied migrations
build in a scratch database on the same server, which is dropped afterwards.

The same server means the same version and the same rendering of types, defaults and view text, so a
difference is a change made outside the migrations. Both sides are read the same way, as
`kind name -> definition`, with the database's own name taken out of definitions (views name it).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from toolkit.errors import GuardRefused
from toolkit.migrations.mysql_apply import migrate
from toolkit.migrations.mysql_history import MySQLHistoryTable, quote
from toolkit.migrations.mysql_statements import as_mysql
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.plan import plan_migrations
from toolkit.migrations.source import LoadedMigrations

CATALOG_QUERIES = {
    "table": "SELECT table_name, CONCAT(table_type, ' ', COALESCE(engine, '')) FROM information_schema.tables "
    "WHERE table_schema = %s",
    "column": "SELECT CONCAT(table_name, '.', column_name),"
    " CONCAT(column_type, IF(is_nullable = 'NO', ' NOT NULL', ''), COALESCE(CONCAT(' DEFAULT ', column_default), ''),"
    " IF(extra <> '', CONCAT(' ', extra), ''), COALESCE(CONCAT(' COLLATE ', collation_name), ''))"
    " FROM information_schema.columns WHERE table_schema = %s",
    "index": "SELECT CONCAT(table_name, '.', index_name), CONCAT(IF(non_unique = 0, 'UNIQUE ', ''), index_type, ' (',"
    " GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', '), ')') FROM information_schema.statistics"
    " WHERE table_schema = %s GROUP BY table_name, index_name, non_unique, index_type",
    "foreign key": "SELECT CONCAT(table_name, '.', constraint_name), CONCAT('(', GROUP_CONCAT(column_name ORDER BY"
    " ordinal_position SEPARATOR ', '), ') -> ', referenced_table_name, '(', GROUP_CONCAT(referenced_column_name"
    " ORDER BY ordinal_position SEPARATOR ', '), ')') FROM information_schema.key_column_usage"
    " WHERE table_schema = %s AND referenced_table_name IS NOT NULL"
    " GROUP BY table_name, constraint_name, referenced_table_name",
    "view": "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = %s",
    "routine": "SELECT CONCAT(routine_type, ' ', routine_name), routine_definition FROM information_schema.routines"
    " WHERE routine_schema = %s",
    "trigger": "SELECT trigger_name, CONCAT(action_timing, ' ', event_manipulation, ' ON ', event_object_table, ' ',"
    " action_statement) FROM information_schema.triggers WHERE trigger_schema = %s",
}


def snapshot(conn, schema: str, history_table: str) -> dict[tuple[str, str], str]:
    """`(kind, name) -> definition` of every object in the database `schema`, its history table left out."""
    own = re.compile(rf"^{re.escape(history_table)}(?:$|\.)")
    prefix = re.compile(rf"`{re.escape(schema)}`\.", re.I)
    found: dict[tuple[str, str], str] = {}
    with conn.cursor() as cur:
        for kind, query in CATALOG_QUERIES.items():
            cur.execute(query, (schema,))
            for name, definition in cur.fetchall():
                if own.match(str(name)):
                    continue
                found[(kind, str(name))] = prefix.sub("", str(definition or "")).strip()
    return found


def scratch_name(schema: str) -> str:
    """`<database>_drift_<random>`, at most 64 characters (MySQL's limit)."""
    return f"{schema[:45]}_drift_{uuid.uuid4().hex[:8]}"


def refuse_naming_live(loaded: LoadedMigrations, schema: str, placeholders: Placeholders | None, environment) -> None:
    """A migration that names the live database itself would change it while the scratch one is built."""
    named = re.compile(rf"(?<![\w$]){re.escape(schema)}(?![\w$])", re.I)
    mysql = LoadedMigrations(tuple(map(as_mysql, loaded.versioned)), tuple(map(as_mysql, loaded.repeatable)))
    plan = plan_migrations(mysql, [], environment=environment, out_of_order=True, placeholders=placeholders)
    for step in plan.pending:
        for statement in step.statements:
            if named.search(statement.sql):
                raise GuardRefused(
                    f"{step.file.script}:{statement.line} names the database {schema!r} itself; drift builds the "
                    "migrations in a scratch database on the same server, and this statement would change the "
                    "live one",
                    hint="leave the database name out of the migration (statements run in the connection's "
                    "database), then run `toolkit db drift` again",
                )


def expected_schema(
    conn,
    loaded: LoadedMigrations,
    history: MySQLHistoryTable,
    *,
    environment: str | None,
    placeholders: Placeholders | None,
) -> dict[tuple[str, str], str]:
    """Apply `loaded` to a scratch database next to `history.schema` (needs CREATE and DROP on
    `<database>_drift_%`); its snapshot. The scratch database is dropped whatever happens."""
    scratch = scratch_name(history.schema)
    own = placeholders or Placeholders()
    own = replace(own, builtins={**own.builtins, "flyway:database": scratch, "flyway:defaultSchema": scratch})
    refuse_naming_live(loaded, history.schema, own, environment)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {quote(scratch)}")
    try:
        conn.select_db(scratch)
        migrate(
            conn,
            loaded,
            MySQLHistoryTable(scratch, history.table),
            environment=environment,
            placeholders=own,
            out_of_order=True,
            lint=False,
        )
        return snapshot(conn, scratch, history.table)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote(scratch)}")
        conn.select_db(history.schema)
