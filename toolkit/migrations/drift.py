"""Drift: the live schema against the schema its applied migrations produce on a scratch PostgreSQL.

Both sides are read from the catalogs the same way (tables, columns and types, constraints, indexes,
views, functions, triggers, enum/domain/composite types, sequences, row security and policies,
schemas), as `kind name -> definition`, so a difference is a line a person can read.
"""

from __future__ import annotations

import re
import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from toolkit.migrations.history import BASELINE_TYPES, HistoryTable
from toolkit.migrations.placeholders import Placeholders
from toolkit.migrations.source import LoadedMigrations

_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"""
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

CATALOG_QUERIES = {
    "table": f"""
        SELECT n.nspname || '.' || c.relname, c.relkind::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "column": f"""
        SELECT n.nspname || '.' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped AND {_SCHEMAS}
          AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    # NOT NULL is compared as part of each column: PostgreSQL 18 also lists it as a constraint
    # (contype 'n'), older servers (RDS on 16 or 17) do not, and the scratch server is always 18.
    "constraint": f"""
        SELECT n.nspname || '.' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype <> 'n' AND {_SCHEMAS}""",
    "index": f"""
        SELECT n.nspname || '.' || i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace WHERE {_SCHEMAS}
          AND {_NOT_EXTENSION.format(oid="x.indrelid")}""",
    "view": f"""
        SELECT n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "function": f"""
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p') AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="p.oid")}""",
    "trigger": f"""
        SELECT n.nspname || '.' || c.relname || '.' || t.tgname,
               pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'D' THEN ' (disabled)'
                   WHEN 'R' THEN ' (enabled on replicas only)' WHEN 'A' THEN ' (enabled always)' ELSE '' END
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    # Enums with their labels in order, domains with base type, NOT NULL and default (their CHECK
    # constraints below), composite types with their attributes.
    "type": f"""
        SELECT n.nspname || '.' || t.typname, CASE t.typtype
            WHEN 'e' THEN 'enum (' || COALESCE((SELECT string_agg(quote_literal(e.enumlabel), ', '
                ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
            WHEN 'd' THEN 'domain ' || format_type(t.typbasetype, t.typtypmod)
                || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || COALESCE(' DEFAULT ' || t.typdefault, '')
            ELSE 'composite (' || COALESCE((SELECT string_agg(quote_ident(a.attname) || ' '
                || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')' END
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE (t.typtype IN ('e', 'd') OR t.typtype = 'c' AND EXISTS (
                SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
          AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="t.oid")}""",
    "domain constraint": f"""
        SELECT n.nspname || '.' || t.typname || '.' || k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE k.contype = 'c' AND {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="t.oid")}""",
    "sequence": f"""
        SELECT n.nspname || '.' || c.relname, format_type(s.seqtypid, NULL) || ' START ' || s.seqstart
               || ' INCREMENT ' || s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax
               || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}""",
    "row security": f"""
        SELECT n.nspname || '.' || c.relname, concat_ws(', ', CASE WHEN c.relrowsecurity THEN 'enabled' END,
               CASE WHEN c.relforcerowsecurity THEN 'forced' END)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (c.relrowsecurity OR c.relforcerowsecurity) AND {_SCHEMAS}""",
    # Roles by name, sorted: role OIDs differ between the live and the scratch server.
    "policy": f"""
        SELECT n.nspname || '.' || c.relname || '.' || p.polname,
               CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END || ' FOR '
               || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
               || ' TO ' || (SELECT string_agg(role, ', ' ORDER BY role) FROM (
                    SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END AS role
                    FROM unnest(p.polroles) AS r) AS roles)
               || COALESCE(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
               || COALESCE(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {_SCHEMAS}""",
    "schema": f"""
        SELECT n.nspname, 'schema' FROM pg_namespace n
        WHERE {_SCHEMAS} AND {_NOT_EXTENSION.format(oid="n.oid")}""",
}


@dataclass(frozen=True)
class Difference:
    kind: str  # one of CATALOG_QUERIES
    name: str
    change: str  # "missing" (migrations make it, the database lacks it), "unexpected", "changed"
    expected: str | None
    actual: str | None

    def __str__(self) -> str:
        if self.kind == "row security":
            return (
                f"row security on {self.name}: the migrations leave it {self.expected or 'disabled'}, "
                f"the database has it {self.actual or 'disabled'}"
            )
        if self.change == "changed":
            return f"{self.kind} {self.name} changed: expected {self.expected!r}, found {self.actual!r}"
        if self.change == "missing":
            return f"{self.kind} {self.name} is missing (the migrations create it)"
        return f"{self.kind} {self.name} is not made by any migration"


def snapshot(conn, history: HistoryTable) -> dict[tuple[str, str], str]:
    """`(kind, name) -> definition` of every schema object, without toolkit's own bookkeeping."""
    own = (f"{history.schema}.{history.table}", f"{history.schema}.{history.table}_toolkit")
    found: dict[tuple[str, str], str] = {}
    with conn.cursor() as cur:
        for kind, query in CATALOG_QUERIES.items():
            cur.execute(query)
            for name, definition in cur.fetchall():
                if any(name == o or name.startswith(o + ".") or name.startswith(o + "_") for o in own):
                    continue
                found[(kind, name)] = definition
    return found


def compare(expected: dict[tuple[str, str], str], actual: dict[tuple[str, str], str]) -> list[Difference]:
    out = []
    for key in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(key), actual.get(key)
        if want == have:
            continue
        change = "missing" if have is None else "unexpected" if want is None else "changed"
        out.append(Difference(key[0], key[1], change, want, have))
    return out


def _major(server_version: int) -> str:
    """PostgreSQL's major version as people write it: 90624 -> 9.6, 170005 -> 17."""
    if server_version >= 100000:
        return str(server_version // 10000)
    return f"{server_version // 10000}.{server_version // 100 % 100}"


def version_warning(live: int, scratch: int) -> str | None:
    """A warning when the scratch server is another major version than the live one, or None."""
    if _major(live) == _major(scratch):
        return None
    return (
        f"the database runs PostgreSQL {_major(live)} and the scratch server PostgreSQL {_major(scratch)}: "
        "catalog output can differ between major versions, so check differences in function, view and "
        "constraint text by eye"
    )


def applied_subset(loaded: LoadedMigrations, applied) -> LoadedMigrations:
    """The files the database has had: applied (or baselined) versions, repeatables at their checksum."""
    rows = [r for r in applied if r.success]
    versions = {r.version for r in rows if r.version is not None and r.type not in BASELINE_TYPES}
    baseline = max((r.version for r in rows if r.type in BASELINE_TYPES), default=None)
    repeatable = {r.description for r in rows if r.version is None}
    return LoadedMigrations(
        tuple(
            s
            for s in loaded.versioned
            if s.file.version in versions or (baseline is not None and s.file.version <= baseline)
        ),
        tuple(s for s in loaded.repeatable if s.file.description in repeatable),
    )


@dataclass(frozen=True)
class ChangedFile:
    """An applied file that differs from what ran: its differences are pending, not drift."""

    script: str
    reason: str
    differences: tuple[Difference, ...]

    def __str__(self) -> str:
        return f"{self.script}: {self.reason}"


Subject = tuple[str | None, str | None]  # (schema or None for "any", object name or None for the schema)


def _dotted(names) -> Subject:
    parts = [n.sval for n in names if hasattr(n, "sval")]
    return (parts[-2] if len(parts) > 1 else None, parts[-1]) if parts else (None, None)


def defined_by(statements: list[str]) -> set[Subject]:
    """What these statements create, change or drop (tables, views, functions, types, sequences,
    indexes, schemas; a trigger or policy counts as its table's), as (schema, name). Only DDL
    targets: a table a view merely reads is not one. An unqualified name is (None, name)."""
    from pglast import ast, parse_sql
    from pglast.enums import ObjectType
    from pglast.parser import ParseError

    out: set[Subject] = set()

    def relation(rv) -> None:
        if rv is not None:
            out.add((rv.schemaname, rv.relname))

    for sql in statements:
        try:
            parsed = parse_sql(sql)
        except ParseError:
            continue
        for raw in parsed:
            node = raw.stmt
            if isinstance(node, ast.CreateStmt | ast.AlterTableStmt | ast.CreateTrigStmt | ast.RuleStmt):
                relation(node.relation)
            elif isinstance(node, ast.CreateTableAsStmt):
                relation(node.into.rel)
            elif isinstance(node, ast.ViewStmt):
                relation(node.view)
            elif isinstance(node, ast.IndexStmt):
                relation(node.relation)
                if node.idxname:
                    out.add((node.relation.schemaname, node.idxname))
            elif isinstance(node, ast.CreatePolicyStmt | ast.AlterPolicyStmt):
                relation(node.table)
            elif isinstance(node, ast.CreateSeqStmt | ast.AlterSeqStmt):
                relation(node.sequence)
            elif isinstance(node, ast.CompositeTypeStmt):
                relation(node.typevar)
            elif isinstance(node, ast.CreateEnumStmt | ast.AlterEnumStmt | ast.AlterDomainStmt):
                out.add(_dotted(node.typeName))
            elif isinstance(node, ast.CreateDomainStmt):
                out.add(_dotted(node.domainname))
            elif isinstance(node, ast.DefineStmt):
                out.add(_dotted(node.defnames))
            elif isinstance(node, ast.CreateFunctionStmt):
                out.add(_dotted(node.funcname))
            elif isinstance(node, ast.AlterFunctionStmt):
                out.add(_dotted(node.func.objname))
            elif isinstance(node, ast.CreateSchemaStmt):
                out.add((node.schemaname, None))
            elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_SCHEMA:
                out.update((name.sval, None) for name in node.objects)
            elif isinstance(node, ast.DropStmt):
                for obj in node.objects or ():
                    names = getattr(obj, "objname", None) or getattr(obj, "names", None) or obj
                    out.add(_dotted(names if isinstance(names, tuple | list) else (names,)))
            elif isinstance(node, ast.RenameStmt):
                if node.relation is not None:
                    relation(node.relation)
                    out.add((node.relation.schemaname, node.newname))
                elif node.object is not None:
                    names = getattr(node.object, "objname", None) or getattr(node.object, "names", None)
                    target = _dotted(names if names is not None else node.object)
                    out.update({target, (target[0], node.newname)})
    return out


_INDEX_TABLE = re.compile(r" ON (?:ONLY )?(\S+) USING ")


def subjects_of(difference: Difference) -> set[Subject]:
    """The objects a difference is about: its own (schema, name) and, for an index, its table's."""
    if difference.kind == "schema":
        return {(difference.name, None)}
    schema, _, rest = difference.name.partition(".")
    found = {(schema, rest.split("(", 1)[0].split(".", 1)[0])}
    for definition in (difference.expected, difference.actual):
        match = _INDEX_TABLE.search(definition or "") if difference.kind == "index" else None
        if match:
            table_schema, _, table = match[1].replace('"', "").rpartition(".")
            found.add((table_schema or schema, table))
    return found


def _about(subject: Subject, defined: set[Subject]) -> bool:
    schema, name = subject
    return any(name == d_name and (d_schema is None or d_schema == schema) for d_schema, d_name in defined)


def set_aside(
    differences: list[Difference], changed: dict[str, set[Subject]]
) -> tuple[list[Difference], dict[str, list[Difference]]]:
    """Split differences into drift and those about what a changed file defines (script -> them):
    the database has that file as it was applied, the scratch server has it as it is now."""
    drift: list[Difference] = []
    pending: dict[str, list[Difference]] = {script: [] for script in changed}
    for difference in differences:
        subjects = subjects_of(difference)
        owner = next((script for script, defined in changed.items() if any(_about(s, defined) for s in subjects)), None)
        if owner is None:
            drift.append(difference)
        else:
            pending[owner].append(difference)
    return drift, pending


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_schema(
    loaded: LoadedMigrations,
    history: HistoryTable,
    *,
    username: str,
    environment: str | None,
    placeholders: Placeholders | None,
    workdir: Path | None = None,
) -> tuple[dict[tuple[str, str], str], int]:
    """Apply `loaded` to a throw-away embedded PostgreSQL, as `username`; its snapshot and server version."""
    from toolkit.adapters.postgres.connection import DatabaseTarget, connect
    from toolkit.adapters.postgres.server import EmbeddedServer, provision
    from toolkit.migrations.apply import migrate

    with tempfile.TemporaryDirectory(prefix="toolkit-drift-", dir=workdir) as tmp:
        server = EmbeddedServer(data_dir=Path(tmp) / "data", port=_free_port(), fast=True)
        try:
            server.ensure_running()
            password = uuid.uuid4().hex
            database = f"drift_{uuid.uuid4().hex[:8]}"
            provision(server, database=database, username=username, password=password)
            target = DatabaseTarget("127.0.0.1", server.port, database, username, password)
            conn = connect(target, attempts=3)
            try:
                migrate(
                    conn,
                    loaded,
                    history,
                    environment=environment,
                    placeholders=placeholders,
                    out_of_order=True,
                    lint=False,
                )
                return snapshot(conn, history), conn.server_version
            finally:
                conn.close()
        finally:
            server.remove()
