"""The engine seam: one database target's migrations, dispatched on its engine ("postgres" or "mysql").

Everything above migrations/ (deploy/, commands/) calls these, never an engine's module, so a second
engine changes nothing there; each engine keeps Flyway's history layout and rows for its database.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from toolkit.errors import ConfigError
from toolkit.migrations import apply as postgres
from toolkit.migrations import lint as postgres_lint
from toolkit.migrations import repair as postgres_repair
from toolkit.migrations.history import HistoryTable

if TYPE_CHECKING:
    from toolkit.migrations.mysql_history import MySQLHistoryTable


def _mysql(module: str):
    """A MySQL module of the engine, imported when a MySQL database is met: a PostgreSQL project never
    loads them (their regular expressions and driver glue cost every run otherwise)."""
    return importlib.import_module(f"toolkit.migrations.mysql_{module}")


ENGINES = ("postgres", "mysql")


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ConfigError(
            f"database engine {engine!r} is not supported",
            hint='toolkit migrates PostgreSQL (engine = "postgres") and MySQL (engine = "mysql"); '
            "see docs/migrations.md for the others",
        )
    return engine


def history_for(engine: str, schema: str, table: str) -> HistoryTable | MySQLHistoryTable:
    """The history table of one database: on MySQL `schema` is a database."""
    if check_engine(engine) == "mysql":
        return _mysql("history").MySQLHistoryTable(schema, table)
    return HistoryTable(schema, table)


def _is_mysql(history) -> bool:
    # Without the module imported, no MySQL history table exists to be this one.
    module = sys.modules.get("toolkit.migrations.mysql_history")
    return module is not None and isinstance(history, module.MySQLHistoryTable)


def migrate(conn, migrations, history, **options):
    """Apply (or, with dry_run, show) what is pending; options as `apply.migrate` takes them."""
    return (_mysql("apply").migrate if _is_mysql(history) else postgres.migrate)(conn, migrations, history, **options)


def current_plan(conn, migrations, history, **options):
    return (_mysql("apply").current_plan if _is_mysql(history) else postgres.current_plan)(
        conn, migrations, history, **options
    )


def repair(conn, history, migrations, lock_timeout_seconds: float):
    impl = _mysql("repair").repair if _is_mysql(history) else postgres_repair.repair
    return impl(conn, history, migrations, lock_timeout_seconds)


def baseline(conn, history, version, lock_timeout_seconds: float, **options) -> None:
    impl = _mysql("repair").baseline if _is_mysql(history) else postgres_repair.baseline
    impl(conn, history, version, lock_timeout_seconds, **options)


def database_errors(engine: str, what: str) -> AbstractContextManager[None]:
    """The engine's errors outside a migration's statements, as DatabaseError."""
    return _mysql("apply").database_errors(what) if engine == "mysql" else postgres.database_errors(what)


def lint_sources(sources, *, policy: postgres_lint.LintPolicy) -> list[postgres_lint.LintFinding]:
    """Each file judged on its own, by the lint of the policy's engine."""
    if policy.engine == "mysql":
        return _mysql("lint").lint_mysql(sources, policy=policy)
    return postgres_lint.lint_sources(sources, policy=policy)


def run_findings(sources, policy: postgres_lint.LintPolicy) -> list[postgres_lint.LintFinding]:
    """The findings of the files one run applies (MySQL's rules do not depend on the run: per file)."""
    if policy.engine == "mysql":
        return _mysql("lint").lint_mysql(sources, policy=policy)
    return postgres_lint.run_findings(sources, policy)


def refusals(pending, *, policy: postgres_lint.LintPolicy) -> list[str]:
    """Problems that stop `migrate`: findings on the pending migrations that are not allowed."""
    if policy.engine == "mysql":
        return _mysql("lint").refusals([p.source for p in pending], policy=policy)
    return postgres_lint.refusals(pending, policy=policy)
