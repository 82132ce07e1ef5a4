"""Destructive-change lint on PostgreSQL's own parser (pglast): what would lose data or block readers.

Each finding names a rule with a severity (error: refused unless allowed; warning: reported, never
refused). A file accepts a rule with `-- toolkit:allow=<rule>[,<rule>…]` at its top, or through
`[migrations.lint.allow]` in toolkit.toml (which leaves the file, and so its checksum, as it is).
Statements on a table created earlier in the same file are not findings: that table holds no data and
has no readers yet. When the lint judges a run (`as_run`: the files one run applies, in order), the
rules about locking a busy table (`LOCK_RULES`) do not refuse a statement on a table an earlier file of
that run creates: it is new for this run; where it already exists the file is refused, so the finding
is a warning saying so. "The same table" means the same
schema-qualified name under PostgreSQL's rules (the parser has already folded unquoted names to lower
case and kept quoted ones; an unqualified name is in the default schema), and `CREATE TABLE IF NOT
EXISTS` does not make a table new: it does nothing where the table already exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from toolkit.migrations.placeholders import PLACEHOLDER
from toolkit.migrations.rules import LOCK_RULES, RULES
from toolkit.migrations.source import MigrationSource
from toolkit.migrations.sqlsplit import SplitError

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class LintPolicy:
    """What the project says about the rules: unqualified names' schema, a severity per rule (default
    error), and rules allowed per file (its path below the sql folder) without touching the file."""

    default_schema: str = "public"
    severity: Mapping[str, str] = field(default_factory=dict)
    allow: Mapping[str, frozenset[str]] = field(default_factory=dict)
    engine: str = "postgres"  # "mysql": the files are MySQL's (migrations/engine.py lints them with mysql_lint.py)

    def allows(self, source: MigrationSource, rule: str) -> bool:
        return rule in source.directives.allow or rule in self.allow.get(source.script, ())


@dataclass(frozen=True)
class LintFinding:
    script: str
    line: int
    rule: str  # one of RULES, or "syntax" (not parsed: reported, never refused)
    message: str
    allowed: bool  # the file (or toolkit.toml for the file) allows this rule
    severity: str = "error"  # "warning": reported, never refused

    @property
    def refused(self) -> bool:
        return not self.allowed and self.rule != "syntax" and self.severity == "error"

    def __str__(self) -> str:
        level = "warning: " if self.severity == "warning" and not self.allowed else ""
        return f"{self.script}:{self.line}: {level}{self.rule}: {self.message}"


def _neutral(sql: str) -> str:
    """Placeholders become plain words, so a file lints without the environment's values."""
    return PLACEHOLDER.sub(lambda m: "ph_" + re.sub(r"\W", "_", m[1]), sql) if "${" in sql else sql


def lint_sources(
    sources: Iterable[MigrationSource],
    default_schema: str = "public",
    *,
    policy: LintPolicy | None = None,
    as_run: bool = False,
) -> list[LintFinding]:
    """Findings for these files under `policy` (or just `default_schema` for unqualified names); each file
    is judged on its own, or, `as_run`, as the files of one run in the order it applies them."""
    sources = list(sources)
    if not sources:  # nothing to parse: the parser (a tenth of a second to load) is not loaded
        return []
    from pglast import parse_sql
    from pglast.parser import ParseError

    policy = policy or LintPolicy(default_schema)
    findings: list[LintFinding] = []
    earlier: dict[tuple[str, str], str] = {}  # tables created by earlier files of the run -> the file
    for source in sources:
        created = _Created(policy.default_schema)
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
                for rule, detail, tables in _check(raw.stmt, created):
                    severity = policy.severity.get(rule, "error")
                    made_by = [earlier.get(created.key(*table)) for table in tables]
                    if as_run and rule in LOCK_RULES and made_by and all(made_by):
                        severity = "warning"
                        detail += (
                            f" (created earlier in this run by {made_by[0]}; refused where the table already exists)"
                        )
                    findings.append(
                        LintFinding(
                            source.script,
                            statement.line,
                            rule,
                            f"{detail}: {RULES[rule]}",
                            policy.allows(source, rule),
                            severity,
                        )
                    )
        if as_run:
            earlier.update(dict.fromkeys(created.tables, source.script))
    return findings


# Every rule needs one of these words in the file; a file without any cannot be refused, so `migrate`
# skips parsing it (the parse is most of the lint's cost on thousands of CREATE/INSERT files).
_MAY_BE_REFUSED = re.compile(r"\b(?:drop|truncate|alter|index|rename)\b", re.IGNORECASE)
_MAY_CREATE = re.compile(r"\bcreate\b", re.IGNORECASE)


def run_findings(sources: Iterable[MigrationSource], policy: LintPolicy) -> list[LintFinding]:
    """The findings of the files one run applies, in its order. Only files that could be refused are
    parsed; only when one is refused by a lock rule are the files before it that create tables parsed
    too, to see whether it locks a table this run creates (then a warning, not a refusal)."""
    ordered = list(sources)
    candidates = [s for s in ordered if _MAY_BE_REFUSED.search(s.text)]
    findings = lint_sources(candidates, policy=policy)
    refused = {f.script for f in findings if f.refused and f.rule in LOCK_RULES}
    if not refused:
        return findings
    last = max(i for i, s in enumerate(ordered) if s.script in refused)
    prefix = [s for s in ordered[: last + 1] if _MAY_BE_REFUSED.search(s.text) or _MAY_CREATE.search(s.text)]
    again = lint_sources(prefix, policy=policy, as_run=True)
    kept = {(f.script, f.line, f.rule) for f in again}
    return again + [f for f in findings if (f.script, f.line, f.rule) not in kept]


def refusals(pending, default_schema: str = "public", *, policy: LintPolicy | None = None) -> list[str]:
    """Problems that stop `migrate`: findings on pending migrations (judged as one run, in order) that are
    not allowed."""
    findings = run_findings((p.source for p in pending), policy or LintPolicy(default_schema))
    return [f"{f}; {allow_hint(f)}" for f in findings if f.refused]


def allow_hint(finding: LintFinding) -> str:
    return (
        f"if intended, put `-- toolkit:allow={finding.rule}` at the top of the file, or (leaving the file as it "
        f'is) add "{finding.script}" = ["{finding.rule}"] under [migrations.lint.allow] in toolkit.toml'
    )


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

    def key(self, schema: str | None, name: str) -> tuple[str, str]:
        """The table an unqualified or qualified name means, as far as this file tells (temporary first)."""
        if schema:
            return schema, name
        return ("pg_temp", name) if ("pg_temp", name) in self.tables else (self.schema, name)

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


def _tables(*relations) -> list[tuple[str | None, str]]:
    """The tables a finding is about, as written (schema or None, name)."""
    return [(r.schemaname or None, r.relname) for r in relations if r is not None]


def _check(node, created: _Created) -> Iterable[tuple[str, str, list[tuple[str | None, str]]]]:
    """(rule, what, the tables it is about) for each finding of one statement."""
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
            tables = [(name[-2] if len(name) > 1 else None, name[-1]) for name in names]
            yield "drop-table", f"DROP TABLE {', '.join('.'.join(name) for name in names)}", tables
    elif isinstance(node, ast.TruncateStmt):
        if not all(created.has_relation(r) for r in node.relations):
            yield "truncate", f"TRUNCATE {', '.join(_name(r) for r in node.relations)}", _tables(*node.relations)
    elif isinstance(node, ast.IndexStmt):
        if not node.concurrent and not created.has_relation(node.relation):
            yield "index-without-concurrently", f"CREATE INDEX on {_name(node.relation)}", _tables(node.relation)
    elif isinstance(node, ast.RenameStmt) and node.renameType in renamed:
        if node.relation is None or not created.has_relation(node.relation):
            yield "rename", f"RENAME {_renamed(node)} TO {node.newname}", _tables(node.relation)
    elif isinstance(node, ast.AlterEnumStmt) and node.oldVal is not None:
        yield "rename", f"RENAME VALUE {node.oldVal!r} TO {node.newVal!r} of type {_dotted(node.typeName)}", []
    elif isinstance(node, ast.AlterTableStmt) and not created.has_relation(node.relation):
        table, tables = _name(node.relation), _tables(node.relation)
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_DropColumn:
                yield "drop-column", f"DROP COLUMN {table}.{cmd.name}", tables
            elif cmd.subtype == AlterTableType.AT_AlterColumnType:
                yield "column-type", f"ALTER COLUMN {table}.{cmd.name} TYPE", tables
            elif cmd.subtype == AlterTableType.AT_SetNotNull:
                yield "not-null", f"SET NOT NULL on {table}.{cmd.name}", tables
            elif cmd.subtype == AlterTableType.AT_AddColumn:
                kinds = {c.contype for c in (cmd.def_.constraints or ())}
                values = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
                has_value = bool(kinds & values) or cmd.def_.typeName.names[-1].sval in _SERIALS
                # PRIMARY KEY makes the column NOT NULL, which its existing rows (all NULL) cannot be
                if kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY} and not has_value:
                    what = "PRIMARY KEY" if ConstrType.CONSTR_PRIMARY in kinds else "NOT NULL"
                    yield "not-null", f"ADD COLUMN {table}.{cmd.def_.colname} {what} without a default", tables
            elif (
                cmd.subtype == AlterTableType.AT_AddConstraint
                and cmd.def_.contype in indexed
                and not cmd.def_.indexname  # USING INDEX adopts an index built CONCURRENTLY beforehand
            ):
                what = f"ADD {indexed[cmd.def_.contype]} on {table} builds its index"
                yield "index-without-concurrently", what, tables
