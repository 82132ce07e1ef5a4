"""Destructive-change lint on PostgreSQL's own parser (pglast): what would lose data or block readers.

Each finding names a rule; a file accepts a rule with `-- toolkit:allow=<rule>[,<rule>…]` at its top.
Statements on a table created earlier in the same file are not findings: that table holds no data
and has no readers yet. A table from an earlier file is never "new": the file will also run where that
table has long held data (production), so the lint judges each file on its own. "The same table" means
the same schema-qualified name under PostgreSQL's rules (the parser has already folded unquoted names
to lower case and kept quoted ones; an unqualified name is in the default schema), and `CREATE TABLE IF
NOT EXISTS` does not make a table new: it does nothing where the table already exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from toolkit.migrations.placeholders import PLACEHOLDER
from toolkit.migrations.rules import RULES
from toolkit.migrations.source import MigrationSource
from toolkit.migrations.sqlsplit import SplitError


@dataclass(frozen=True)
class LintFinding:
    script: str
    line: int
    rule: str  # one of RULES, or "syntax" (not parsed: reported, never refused)
    message: str
    allowed: bool  # the file carries toolkit:allow for this rule

    @property
    def refused(self) -> bool:
        return not self.allowed and self.rule != "syntax"

    def __str__(self) -> str:
        return f"{self.script}:{self.line}: {self.rule}: {self.message}"


def _neutral(sql: str) -> str:
    """Placeholders become plain words, so a file lints without the environment's values."""
    return PLACEHOLDER.sub(lambda m: "ph_" + re.sub(r"\W", "_", m[1]), sql) if "${" in sql else sql


def lint_sources(sources: Iterable[MigrationSource], default_schema: str = "public") -> list[LintFinding]:
    """Findings for these files, each judged on its own; unqualified names are in `default_schema`."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    findings: list[LintFinding] = []
    for source in sources:
        created = _Created(default_schema)
        try:
            statements = source.statements
        except SplitError as exc:
            findings.append(LintFinding(source.script, exc.line, "syntax", str(exc), False))
            continue
        for statement in statements:
            try:
                parsed = parse_sql(_neutral(statement.sql))
            except ParseError as exc:
                findings.append(LintFinding(source.script, statement.line, "syntax", str(exc), False))
                continue
            for raw in parsed:
                for rule, detail in _check(raw.stmt, created):
                    findings.append(
                        LintFinding(
                            source.script,
                            statement.line,
                            rule,
                            f"{detail}: {RULES[rule]}",
                            rule in source.directives.allow,
                        )
                    )
    return findings


# Every rule needs one of these words in the file; a file without any cannot be refused, so `migrate`
# skips parsing it (the parse is most of the lint's cost on thousands of CREATE/INSERT files).
_MAY_BE_REFUSED = re.compile(r"\b(?:drop|truncate|alter|index|rename)\b", re.IGNORECASE)


def refusals(pending, default_schema: str = "public") -> list[str]:
    """Problems that stop `migrate`: findings on pending migrations without an allow annotation."""
    findings = lint_sources((p.source for p in pending if _MAY_BE_REFUSED.search(p.source.text)), default_schema)
    return [f"{f}; if intended, put `-- toolkit:allow={f.rule}` at the top of the file" for f in findings if f.refused]


def _name(relation) -> str:
    """A relation as written (for messages)."""
    return ".".join(p for p in (relation.schemaname, relation.relname) if p)


class _Created:
    """Tables created by the statements so far in one file, by (schema, name) as PostgreSQL resolves them."""

    def __init__(self, default_schema: str) -> None:
        self.schema = default_schema  # changed by a SET search_path in the file
        self.tables: set[tuple[str, str]] = set()

    def add(self, relation) -> None:
        if relation.relpersistence == "t" and not relation.schemaname:
            self.tables.add(("pg_temp", relation.relname))
        else:
            self.tables.add((relation.schemaname or self.schema, relation.relname))

    def has(self, schema: str | None, name: str) -> bool:
        if schema:
            return (schema, name) in self.tables
        # an unqualified name finds a temporary table first, as PostgreSQL's search_path does
        return ("pg_temp", name) in self.tables or (self.schema, name) in self.tables

    def has_relation(self, relation) -> bool:
        return relation is not None and self.has(relation.schemaname, relation.relname)

    def has_names(self, names: list[str]) -> bool:
        """A dotted name of a DROP: name, schema.name or catalog.schema.name."""
        return self.has(names[-2] if len(names) > 1 else None, names[-1])


def _dotted(names) -> str:
    return ".".join(n.sval for n in names if hasattr(n, "sval"))


def _renamed(node) -> str:
    """The old name in a RenameStmt: `table.column`, `table.constraint`, `function`, `type`, …"""
    owner = _name(node.relation) if node.relation is not None else ""
    if not owner and node.object is not None:
        names = getattr(node.object, "objname", None) or getattr(node.object, "names", None) or node.object
        owner = _dotted(names if isinstance(names, tuple | list) else (names,))
    return ".".join(p for p in (owner, node.subname) if p)


@lru_cache(maxsize=1)
def _lint_tables():
    """Rename kinds and index-building constraints, built on first use (pglast is imported lazily)."""
    from pglast.enums import ConstrType, ObjectType

    renamed = {
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_COLUMN,
        ObjectType.OBJECT_VIEW,
        ObjectType.OBJECT_MATVIEW,
        ObjectType.OBJECT_SCHEMA,
        ObjectType.OBJECT_FOREIGN_TABLE,
        ObjectType.OBJECT_SEQUENCE,
        ObjectType.OBJECT_FUNCTION,
        ObjectType.OBJECT_PROCEDURE,
        ObjectType.OBJECT_ROUTINE,
        ObjectType.OBJECT_AGGREGATE,
        ObjectType.OBJECT_TYPE,
        ObjectType.OBJECT_DOMAIN,
        ObjectType.OBJECT_ATTRIBUTE,  # of a composite type
        ObjectType.OBJECT_TABCONSTRAINT,
        ObjectType.OBJECT_DOMCONSTRAINT,
    }
    indexed = {
        ConstrType.CONSTR_PRIMARY: "PRIMARY KEY",
        ConstrType.CONSTR_UNIQUE: "UNIQUE",
        ConstrType.CONSTR_EXCLUSION: "EXCLUDE",
    }
    return renamed, indexed


# serial columns get a default (nextval) when they are added, so existing rows get a value
_SERIALS = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}


def _check(node, created: _Created) -> Iterable[tuple[str, str]]:
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType, ObjectType

    renamed, indexed = _lint_tables()

    if isinstance(node, ast.CreateStmt | ast.CreateTableAsStmt):
        if not node.if_not_exists:  # IF NOT EXISTS keeps a table that is already there, with its rows
            created.add(node.relation if isinstance(node, ast.CreateStmt) else node.into.rel)
    elif isinstance(node, ast.VariableSetStmt) and node.name == "search_path" and node.args:
        schemas = [a.val.sval for a in node.args if isinstance(a, ast.A_Const) and isinstance(a.val, ast.String)]
        schemas = [name for name in schemas if name != "$user"]
        if schemas:
            created.schema = schemas[0]
    elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        names = [[s.sval for s in obj] for obj in node.objects]
        if not all(created.has_names(name) for name in names):
            yield "drop-table", f"DROP TABLE {', '.join('.'.join(name) for name in names)}"
    elif isinstance(node, ast.TruncateStmt):
        if not all(created.has_relation(r) for r in node.relations):
            yield "truncate", f"TRUNCATE {', '.join(_name(r) for r in node.relations)}"
    elif isinstance(node, ast.IndexStmt):
        if not node.concurrent and not created.has_relation(node.relation):
            yield "index-without-concurrently", f"CREATE INDEX on {_name(node.relation)}"
    elif isinstance(node, ast.RenameStmt) and node.renameType in renamed:
        if node.relation is None or not created.has_relation(node.relation):
            yield "rename", f"RENAME {_renamed(node)} TO {node.newname}"
    elif isinstance(node, ast.AlterEnumStmt) and node.oldVal is not None:
        yield "rename", f"RENAME VALUE {node.oldVal!r} TO {node.newVal!r} of type {_dotted(node.typeName)}"
    elif isinstance(node, ast.AlterTableStmt) and not created.has_relation(node.relation):
        table = _name(node.relation)
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_DropColumn:
                yield "drop-column", f"DROP COLUMN {table}.{cmd.name}"
            elif cmd.subtype == AlterTableType.AT_AlterColumnType:
                yield "column-type", f"ALTER COLUMN {table}.{cmd.name} TYPE"
            elif cmd.subtype == AlterTableType.AT_SetNotNull:
                yield "not-null", f"SET NOT NULL on {table}.{cmd.name}"
            elif cmd.subtype == AlterTableType.AT_AddColumn:
                kinds = {c.contype for c in (cmd.def_.constraints or ())}
                values = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
                has_value = bool(kinds & values) or cmd.def_.typeName.names[-1].sval in _SERIALS
                # PRIMARY KEY makes the column NOT NULL, which its existing rows (all NULL) cannot be
                if kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY} and not has_value:
                    what = "PRIMARY KEY" if ConstrType.CONSTR_PRIMARY in kinds else "NOT NULL"
                    yield "not-null", f"ADD COLUMN {table}.{cmd.def_.colname} {what} without a default"
            elif (
                cmd.subtype == AlterTableType.AT_AddConstraint
                and cmd.def_.contype in indexed
                and not cmd.def_.indexname  # USING INDEX adopts an index built CONCURRENTLY beforehand
            ):
                yield "index-without-concurrently", f"ADD {indexed[cmd.def_.contype]} on {table} builds its index"
