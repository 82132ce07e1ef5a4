"""Whether a PostgreSQL migration could leave its session changed for the next one, and the reset.

After a file that might have changed the session (a SET, a role, a GUC set by code), the next file gets
the session the run started with (`session_reset`). The reset is skipped only after a file that cannot
have changed it, which takes two proofs: its text names nothing that changes a setting or runs code
(`file_risk`: every word of the file counts, comments and strings included, so nothing hides in a
literal that some statement executes), and the database holds no stored code that could do it when
the file's statements fire it (`stored_code_may_change_session`: triggers, event triggers, rules, a
user function whose body could, a view or default calling `set_config`, …). A file that could store
such code makes every later file of the run reset (`SessionRisk.CODE`). Anything not proven harmless
resets; a file outside a transaction always resets (its timeouts are set for the session).
"""

from __future__ import annotations

import re
from enum import IntEnum

# A killed client is noticed by the server within this interval even mid-statement (PostgreSQL >= 14),
# so its transaction rolls back and its advisory lock goes away promptly.
CLIENT_CHECK_INTERVAL = "1s"


class SessionRisk(IntEnum):
    NONE = 0  # provably leaves the session as it found it (given no risky stored code)
    SETTINGS = 1  # may change a setting or the role: the reset follows this file
    CODE = 2  # runs code, or may store code a later file fires: the reset follows every file from here on


# Words that change a setting or the role (SET, RESET, SET ROLE, SET SESSION AUTHORIZATION, DISCARD, …).
SETTINGS_WORDS = ("set", "reset", "discard", "role", "authorization", "session", "search_path")
# Words of code that runs now (DO, CALL, EXECUTE, a cursor, a loaded library) or is stored and may run in a
# later file (functions, triggers, rules, operators, casts, extensions), and the built-ins that set a GUC
# or run SQL given as text (set_config, ts_stat, ts_rewrite, query_to_xml and its kin, below).
CODE_WORDS = (
    "set_config", "ts_stat", "ts_rewrite", "function", "procedure", "routine", "trigger", "rule",
    "extension", "language", "load", "do", "call", "execute", "prepare", "declare", "fetch", "move",
    "cursor", "operator", "aggregate", "cast", "transform", "handler", "server", "wrapper", "import",
    "security",
)  # fmt: skip
# The words of a text, lower-cased: a run of identifier characters, starting at a letter or `_` (so
# `1set` holds the word `set`: a false alarm only costs a reset). `_to_xml` and `U&` (a Unicode-escaped
# name can spell set_config) count wherever they stand.
_WORDS = re.compile(r"[a-z_][a-z0-9_$]*")
_CODE = frozenset(CODE_WORDS)
_SETTINGS = frozenset(SETTINGS_WORDS)


def file_risk(text: str) -> SessionRisk:
    """What a file's text could do to the session (the whole text: statements, strings, comments)."""
    lowered = text.lower()
    if "_to_xml" in lowered or "u&" in lowered:
        return SessionRisk.CODE
    words = set(_WORDS.findall(lowered))
    if not words.isdisjoint(_CODE):
        return SessionRisk.CODE
    if not words.isdisjoint(_SETTINGS):
        return SessionRisk.SETTINGS
    return SessionRisk.NONE


# The same words for PostgreSQL's regular expressions (~*), to read the bodies of stored functions.
_BODY_WORDS = f"(^|[^a-z_])({'|'.join(SETTINGS_WORDS + CODE_WORDS)})([^a-z0-9_$]|$)|_to_xml|u&"
_STORED_CODE = """
WITH risky AS (
    SELECT coalesce(array_agg(oid), '{{}}') AS oids,
           ':(funcid|opfuncid) (' || coalesce(string_agg(oid::text, '|'), '0') || ') ' AS calls
    FROM pg_catalog.pg_proc
    WHERE pronamespace = 'pg_catalog'::regnamespace
      AND (proname IN ('set_config', 'ts_stat', 'ts_rewrite') OR proname LIKE '%%\\_to\\_xml%%')
), trees(tree) AS (
    SELECT ev_action::text FROM pg_catalog.pg_rewrite WHERE oid >= 16384
    UNION ALL SELECT ev_qual::text FROM pg_catalog.pg_rewrite WHERE oid >= 16384
    UNION ALL SELECT adbin::text FROM pg_catalog.pg_attrdef WHERE oid >= 16384
    UNION ALL SELECT conbin::text FROM pg_catalog.pg_constraint WHERE oid >= 16384 AND conbin IS NOT NULL
    UNION ALL SELECT tgqual::text FROM pg_catalog.pg_trigger WHERE tgqual IS NOT NULL
    UNION ALL SELECT polqual::text FROM pg_catalog.pg_policy
    UNION ALL SELECT polwithcheck::text FROM pg_catalog.pg_policy
    UNION ALL SELECT typdefaultbin::text FROM pg_catalog.pg_type WHERE oid >= 16384 AND typdefaultbin IS NOT NULL
    UNION ALL SELECT indexprs::text FROM pg_catalog.pg_index WHERE indexrelid >= 16384 AND indexprs IS NOT NULL
    UNION ALL SELECT indpred::text FROM pg_catalog.pg_index WHERE indexrelid >= 16384 AND indpred IS NOT NULL
    {sql_bodies}
)
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger)
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite WHERE oid >= 16384 AND rulename <> '_RETURN')
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
               WHERE p.oid >= 16384 AND (l.lanname NOT IN ('sql', 'plpgsql') OR p.prosrc ~* %(words)s))
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator, risky WHERE oid >= 16384 AND oprcode::oid = ANY (oids))
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast, risky WHERE oid >= 16384 AND castfunc = ANY (oids))
    OR EXISTS (SELECT 1 FROM trees, risky WHERE tree ~ calls)
"""
_SQL_BODIES = "UNION ALL SELECT prosqlbody::text FROM pg_catalog.pg_proc WHERE oid >= 16384 AND prosqlbody IS NOT NULL"


def stored_code_may_change_session(cur, server_version: int) -> bool:
    """Whether the database holds code that a statement could fire and that could change the session:
    an event trigger or a rule; a function not built into the server (oid >= 16384) in another language
    than SQL or PL/pgSQL, or whose body has any of the words above; a view, default, constraint, policy,
    trigger condition, index expression or SQL-standard body that calls set_config or a built-in running
    SQL text; an operator or cast made of one. Built-in code (oid < 16384) changes no setting unless asked
    to through set_config or SET, which a file's text would show."""
    sql = _STORED_CODE.format(sql_bodies=_SQL_BODIES if server_version >= 140000 else "")
    cur.execute(sql, {"words": _BODY_WORDS})
    return bool(cur.fetchone()[0])


def session_reset(server_version: int) -> bytes:
    """SQL that gives the next migration the session this run started with, as Flyway restores it.

    A plain SET (search_path, work_mem, ...) or SET ROLE in a committed file outlives it: the next file
    would create its tables in another schema, or run (and be recorded in installed_by) as another role.
    RESET ALL leaves the role, the session authorization and the advisory lock alone, so those two are
    reset by name; it does reset what this run set for the whole session, which is set again: the
    client check that lets the server notice a killed run, and psycopg2's ISO DateStyle. Temporary
    tables and prepared statements are left as they are (Flyway leaves them too)."""
    sql = "RESET ALL; RESET SESSION AUTHORIZATION; RESET ROLE; SET DateStyle TO ISO; "
    if server_version >= 140000:
        sql += f"SET client_connection_check_interval TO '{CLIENT_CHECK_INTERVAL}'; "
    return sql.encode()
