"""The toolkit's own bookkeeping, versioned so its layout can evolve (like yoyo's internal migrations).

Next to the Flyway-layout history table `T` lives `T_toolkit (version, applied_on)`: which of the steps
below the database has had. The history table itself stays exactly Flyway's, so Flyway can still read
it, and a database Flyway migrated is taken over as it is (step 1 finds the table and keeps it).
"""

from __future__ import annotations

from toolkit.errors import DatabaseError
from toolkit.migrations.history import HistoryTable

FLYWAY_COLUMNS = {
    "installed_rank",
    "version",
    "description",
    "type",
    "script",
    "checksum",
    "installed_by",
    "installed_on",
    "execution_time",
    "success",
}


def _step_1(cur, history: HistoryTable) -> None:
    """The Flyway-layout history table (kept as it is when Flyway made it)."""
    if history.exists(cur):
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (history.schema, history.table),
        )
        missing = FLYWAY_COLUMNS - {name for (name,) in cur.fetchall()}
        if missing:
            raise DatabaseError(
                f"{history.name} exists but is not a Flyway schema history table "
                f"(no column {', '.join(sorted(missing))})",
                hint="set [migrations].history_table in toolkit.toml to another name",
            )
    history.create(cur)


STEPS = (_step_1,)


def meta_name(history: HistoryTable) -> str:
    return f'"{history.schema}"."{history.table}_toolkit"'


def ensure(cur, history: HistoryTable) -> int:
    """Bring the bookkeeping up to date (call under the migration lock); the version it is at."""
    meta = meta_name(history)
    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{history.schema}"')
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {meta} (version INT PRIMARY KEY, applied_on TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    cur.execute(f"SELECT COALESCE(MAX(version), 0) FROM {meta}")
    current = cur.fetchone()[0]
    if current > len(STEPS):
        raise DatabaseError(
            f"{meta} is at version {current}, newer than this toolkit knows ({len(STEPS)})",
            hint="upgrade toolkit; an older one must not write to this history table",
        )
    for number, step in enumerate(STEPS, start=1):
        if number > current:
            step(cur, history)
            cur.execute(f"INSERT INTO {meta} (version) VALUES (%s)", (number,))
    if history.exists(cur) is False:  # dropped by hand after step 1: recreate rather than fail later
        history.create(cur)
    return len(STEPS)
