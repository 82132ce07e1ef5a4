"""Which migrations are pending, and what stops a run before anything is applied. Pure: no database.

One pass over the files and one over the history rows: fine for 10,000 migrations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from toolkit.migrations.checksum import flyway_checksum
from toolkit.migrations.discovery import Version
from toolkit.migrations.history import BASELINE_TYPES, AppliedMigration, effective
from toolkit.migrations.placeholders import Placeholders, fill, unknown_in
from toolkit.migrations.source import LoadedMigrations, MigrationSource
from toolkit.migrations.sqlsplit import SplitError, Statement

# A COMMIT inside a file would end toolkit's transaction half way, before the history row is written.
_TRANSACTION_CONTROL = re.compile(
    r"^(BEGIN|COMMIT|ROLLBACK|ABORT|END|START\s+TRANSACTION|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b", re.I
)
# Every statement PostgreSQL refuses inside a transaction block has one of these words, so only files
# with one are parsed (pglast), and 10,000 CREATE/INSERT files cost a regex search each.
_MAY_NEED_NO_TRANSACTION = re.compile(
    r"\b(?:concurrently|vacuum|database|tablespace|system|cluster|subscription|reindex)\b", re.I
)
_ADD_VALUE = re.compile(r"\bvalue\b", re.I)
# Only when pglast cannot parse a statement (PostgreSQL will then say what is wrong with it).
_FALLBACK = [
    re.compile(p, re.I | re.S)
    for p in (
        r"^CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b",
        r"^DROP\s+INDEX\s+CONCURRENTLY\b",
        r"^REINDEX\b.*\bCONCURRENTLY\b",
        r"^VACUUM\b",
        r"^(CREATE|DROP)\s+(DATABASE|TABLESPACE)\b",
        r"^ALTER\s+SYSTEM\b",
        r"^ALTER\s+DATABASE\b.*\bSET\s+TABLESPACE\b",
        r"^CLUSTER\s*$",
        r"^(CREATE|DROP)\s+SUBSCRIPTION\b",
    )
]


def may_need_no_transaction(text: str, server_version: int) -> bool:
    """Whether a file's text could hold a statement that cannot run in a transaction (cheap)."""
    if _MAY_NEED_NO_TRANSACTION.search(text):
        return True
    return server_version < 120000 and bool(_ADD_VALUE.search(text))


def needs_no_transaction(sql: str, server_version: int) -> bool:
    """Whether PostgreSQL refuses this statement inside a transaction block, from its parse tree."""
    from pglast import ast, parse_sql
    from pglast.enums import AlterSubscriptionType, AlterTableType, ReindexObjectType
    from pglast.parser import ParseError

    try:
        parsed = parse_sql(sql)
    except ParseError:
        return any(p.search(sql) for p in _FALLBACK)

    def option(elements, name: str, default: bool = False) -> bool:
        """A boolean option (`CONCURRENTLY`, `refresh = false`, …) as PostgreSQL reads it."""
        for e in elements or ():
            if e.defname == name:
                if e.arg is None:
                    return True
                value = getattr(e.arg, "boolval", None)
                if value is None:
                    value = str(getattr(e.arg, "sval", getattr(e.arg, "ival", ""))).lower()
                    value = value not in ("false", "off", "no", "0")
                return bool(value)
        return default

    for raw in parsed:
        node = raw.stmt
        if isinstance(node, ast.IndexStmt | ast.DropStmt) and node.concurrent:
            return True
        if isinstance(node, ast.ReindexStmt) and (
            option(node.params, "concurrently")
            or node.kind
            in (
                ReindexObjectType.REINDEX_OBJECT_SCHEMA,
                ReindexObjectType.REINDEX_OBJECT_SYSTEM,
                ReindexObjectType.REINDEX_OBJECT_DATABASE,
            )
        ):
            return True
        if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:  # ANALYZE alone may run in one
            return True
        if isinstance(
            node,
            ast.CreatedbStmt
            | ast.DropdbStmt
            | ast.CreateTableSpaceStmt
            | ast.DropTableSpaceStmt
            | ast.AlterSystemStmt
            | ast.CreateSubscriptionStmt
            | ast.DropSubscriptionStmt,
        ):
            return True
        if isinstance(node, ast.AlterDatabaseStmt) and option(node.options, "tablespace"):
            return True
        if isinstance(node, ast.ClusterStmt) and node.relation is None:
            return True
        if isinstance(node, ast.AlterSubscriptionStmt) and (
            node.kind == AlterSubscriptionType.ALTER_SUBSCRIPTION_REFRESH
            or node.kind
            in (
                AlterSubscriptionType.ALTER_SUBSCRIPTION_SET_PUBLICATION,
                AlterSubscriptionType.ALTER_SUBSCRIPTION_ADD_PUBLICATION,
                AlterSubscriptionType.ALTER_SUBSCRIPTION_DROP_PUBLICATION,
            )
            and option(node.options, "refresh", default=True)
        ):
            return True
        if isinstance(node, ast.AlterTableStmt) and any(
            cmd.subtype == AlterTableType.AT_DetachPartition and cmd.def_.concurrent for cmd in node.cmds or ()
        ):
            return True
        if isinstance(node, ast.AlterEnumStmt) and node.oldVal is None and server_version < 120000:
            return True
    return False


@dataclass(frozen=True, slots=True)
class PendingMigration:
    source: MigrationSource
    checksum: int  # what the history row records (repeatable: after placeholders)
    reason: str  # "new", "out of order", "changed" (repeatable), "first run" (repeatable)
    # The run's placeholders, one object for every file: the file's own (`placeholders`) are made when asked.
    run_placeholders: Placeholders = field(default_factory=Placeholders, repr=False, compare=False)

    # Nothing of the file's text is kept: each property reads it again (source.text, which refuses a file
    # changed since it was planned), so a plan of 10,000 files holds no text.
    @property
    def placeholders(self) -> Placeholders:
        """The run's, with `${flyway:filename}` naming this file."""
        return self.run_placeholders.for_file(self.file.name)

    @property
    def statements(self) -> tuple[Statement, ...]:
        """Placeholders filled."""
        return self.statements_of(self.source.text)

    def statements_of(self, text: str) -> tuple[Statement, ...]:
        """The statements of `text` (this file's, as `source.text` read it), placeholders filled."""
        statements = self.source.split(text)
        if "${" not in text or not self.run_placeholders.enabled:
            return statements  # nothing to fill: the parse as it is
        own = self.placeholders
        return tuple(Statement(fill(s.sql, own)[0], s.line, s.offset, _data(s, own, 0)) for s in statements)

    @property
    def shown(self) -> tuple[str, ...]:
        """The same statements with sensitive values masked (a COPY's with its data and `\\.` line)."""
        own = self.placeholders
        return tuple(
            fill(s.sql, own)[1] + ("" if s.copy_data is None else f";\n{_data(s, own, 1)}\\.")
            for s in self.source.statements
        )

    @property
    def file(self):
        return self.source.file

    @property
    def sql(self) -> str:
        statements = self.statements
        return ";\n".join(s.sql for s in statements) + (";" if statements else "")


def _data(statement: Statement, placeholders: Placeholders, which: int) -> str | None:
    """A COPY's data lines with placeholders filled, as Flyway fills the whole script (0: to run, 1: to show)."""
    return None if statement.copy_data is None else fill(statement.copy_data, placeholders)[which]


@dataclass(frozen=True, slots=True)
class FileState:
    """One line of `db status`."""

    script: str
    version: str | None
    description: str
    state: str  # applied, pending, failed, checksum mismatch, missing, below baseline, ignored, skipped
    installed_on: str | None = None
    # failed outside a transaction (toolkit:transaction=false): what ran before it stopped stayed applied
    partial: bool = False


@dataclass(frozen=True)
class MigrationPlan:
    pending: tuple[PendingMigration, ...]
    applied: int
    problems: tuple[str, ...]  # each one blocks the run
    states: tuple[FileState, ...] = field(default=(), repr=False)
    current: str | None = None  # the highest applied version

    @property
    def ok(self) -> bool:
        return not self.problems


def _prepare(source: MigrationSource, placeholders: Placeholders, server_version: int, problems: list[str]) -> bool:
    """Placeholders filled and the no-transaction check done, on one read of the file (not kept); False
    (with problems) if it cannot run."""
    text = source.text
    missing = unknown_in(source.script, text, placeholders)
    if missing:
        problems.extend(str(m) for m in missing)
        return False
    try:
        raw = source.split(text)
    except SplitError as exc:
        problems.append(f"{source.script}:{exc.line}: {exc}")
        return False
    check = source.postgres_checks and source.directives.transactional
    check = check and may_need_no_transaction(text, server_version)
    filling = "${" in text
    for statement in raw:
        sql = fill(statement.sql, placeholders)[0] if filling else statement.sql
        if _TRANSACTION_CONTROL.match(sql):
            problems.append(
                f"{source.script}:{statement.line}: `{sql.split()[0]}` in a migration: remove it; toolkit "
                "runs each file in its own transaction (or none, with toolkit:transaction=false)"
            )
        elif check and needs_no_transaction(sql, server_version):
            first = " ".join(sql.split()[:4])
            problems.append(
                f"{source.script}:{statement.line}: `{first} …` cannot run inside a transaction; put "
                "`-- toolkit:transaction=false` at the top of the file (and keep that file to such "
                "statements: they are not rolled back if a later one fails)"
            )
    return True


class _Discarded(list):
    """A list that keeps nothing appended to it."""

    def append(self, item) -> None:
        pass


def plan_migrations(
    migrations: LoadedMigrations,
    applied: Iterable[AppliedMigration],
    *,
    environment: str | None = None,
    out_of_order: bool = False,
    placeholders: Placeholders | None = None,
    server_version: int = 180000,
    keep_states: bool = True,
) -> MigrationPlan:
    """Compare the files with the history table. Without `keep_states` the plan has no line per file for
    `db status` (a run that applies needs none, and 10,000 of them are a fifth of its memory)."""
    placeholders = placeholders or Placeholders()
    problems: list[str] = []
    states: list[FileState] = [] if keep_states else _Discarded()
    by_version, repeatable_rows, baseline = _read_history(applied, problems, environment)
    highest = max((v for v, r in by_version.items() if r.success), default=None)
    pending: list[PendingMigration] = []
    on_disk: set[Version] = set()
    for source in migrations.versioned:
        file, version = source.file, source.file.version
        on_disk.add(version)
        row = by_version.get(version)
        if row is not None:
            state = "baseline" if row.type in BASELINE_TYPES else "applied" if row.success else "failed"
            partial = state == "failed" and not source.directives.transactional
            if row.success and row.type not in BASELINE_TYPES and row.checksum != source.checksum:
                state = "checksum mismatch"
                problems.append(
                    f"{file.script}: changed after it was applied (checksum {row.checksum} in the "
                    f"database, {source.checksum} on disk); restore the file and put the change in a new "
                    f"migration, or run `toolkit db repair {environment or 'ENV'}` if the edit is intended"
                )
            states.append(FileState(file.script, str(version), file.description, state, str(row.installed_on), partial))
            continue
        if baseline is not None and version <= baseline:
            states.append(FileState(file.script, str(version), file.description, "below baseline"))
            continue
        if not source.runs_in(environment):
            states.append(FileState(file.script, str(version), file.description, "skipped"))
            continue
        reason = "new"
        if highest is not None and version < highest:
            if not out_of_order:
                problems.append(
                    f"{file.script}: version {version} is not applied but {highest} already is (out of "
                    f"order); give it a version above {highest}, or allow out-of-order runs"
                )
                states.append(FileState(file.script, str(version), file.description, "ignored"))
                continue
            reason = "out of order"
        prepared = _prepare(source, placeholders.for_file(file.name), server_version, problems)
        states.append(FileState(file.script, str(version), file.description, "pending"))
        if prepared:
            pending.append(PendingMigration(source, source.checksum, reason, placeholders))
    for version, row in by_version.items():
        if version not in on_disk and row.type not in BASELINE_TYPES and row.success:
            problems.append(f"{row.script}: version {version} is applied but its file is missing")
            states.append(FileState(row.script, str(version), row.description, "missing", str(row.installed_on)))
    pending += _plan_repeatables(
        migrations, repeatable_rows, environment, placeholders, server_version, problems, states
    )
    return MigrationPlan(
        pending=tuple(pending),
        applied=sum(1 for r in by_version.values() if r.success),
        problems=tuple(problems),
        states=tuple(states),
        current=str(highest) if highest is not None else None,
    )


def _read_history(
    applied: Iterable[AppliedMigration], problems: list[str], environment: str | None = None
) -> tuple[dict[Version, AppliedMigration], dict[str, AppliedMigration], Version | None]:
    """The history as Flyway reads it (undo, DELETE and SCHEMA rows applied): rows by version, the last
    successful row of each repeatable by description, and the baseline version; failed rows are problems."""
    by_version: dict[Version, AppliedMigration] = {}
    repeatable_rows: dict[str, AppliedMigration] = {}
    baseline: Version | None = None
    for row in effective(list(applied)):
        if not row.success:
            problems.append(
                f"{row.script}: {'version ' + str(row.version) if row.version else 'repeatable migration'} "
                "failed in an earlier run and is recorded as failed; fix the database by hand, then run "
                f"`toolkit db repair {environment or 'ENV'}`"
            )
        if row.version is None:
            if row.success:
                repeatable_rows[row.description] = row  # rows come in rank order: the last one wins
            continue
        if row.type in BASELINE_TYPES and row.success:
            baseline = row.version if baseline is None else max(baseline, row.version)
        by_version[row.version] = row
    return by_version, repeatable_rows, baseline


def _plan_repeatables(
    migrations: LoadedMigrations,
    rows: dict[str, AppliedMigration],
    environment: str | None,
    placeholders: Placeholders,
    server_version: int,
    problems: list[str],
    states: list[FileState],
) -> list[PendingMigration]:
    """Repeatables run when new or when their checksum (placeholders filled) differs from the last run."""
    pending = []
    for source in migrations.repeatable:
        if not source.runs_in(environment):
            states.append(FileState(source.script, None, source.file.description, "skipped"))
            continue
        row = rows.get(source.file.description)
        before = len(problems)
        own = placeholders.for_file(source.file.name)
        prepared = _prepare(source, own, server_version, problems)
        if not prepared:
            states.append(FileState(source.script, None, source.file.description, "pending"))
            continue
        filled, _ = fill(source.text, own)
        checksum = flyway_checksum(filled)
        if row is not None and row.checksum == checksum:
            del problems[before:]  # an unchanged repeatable does not run: its no-transaction check is moot
            states.append(FileState(source.script, None, source.file.description, "applied", str(row.installed_on)))
            continue
        reason = "first run" if row is None else "changed"
        states.append(FileState(source.script, None, source.file.description, "pending"))
        pending.append(PendingMigration(source, checksum, reason, placeholders))
    return pending
