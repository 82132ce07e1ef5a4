"""The destructive-change lint's rules: what `-- toolkit:allow=` may name and what each one finds.

Apart from lint.py so the directives can check names without importing the parser.
"""

RULES = {
    "drop-table": "DROP TABLE deletes the table and its data",
    "drop-column": "DROP COLUMN deletes the column's data and breaks readers that select it",
    "truncate": "TRUNCATE deletes every row",
    "column-type": "changing a column's type can rewrite the whole table under an exclusive lock",
    "not-null": "NOT NULL without a default fails on existing rows, or scans the table under a lock",
    "index-without-concurrently": "building an index without CONCURRENTLY blocks writes to an existing table "
    "(for PRIMARY KEY or UNIQUE: CREATE UNIQUE INDEX CONCURRENTLY first, then ADD … USING INDEX)",
    "rename": "a rename breaks every reader and writer that uses the old name",
    # MySQL only (migrations/mysql_lint.py)
    "table-copy": "on MySQL, MODIFY/CHANGE of a column (or ALGORITHM=COPY) can copy the whole table, blocking "
    "writes until it is done; add the column anew, or run it with an online schema change tool",
    "algorithm": "on MySQL, an ALTER TABLE or CREATE INDEX without ALGORITHM=INSTANT or INPLACE lets the server "
    "fall back to copying the table and blocking writes; state the algorithm, so it refuses instead",
    "mixed-ddl-dml": "on MySQL, DDL commits implicitly: a file that also changes rows cannot be rolled back when "
    "it fails half way; put the DDL and the row changes in separate files",
}

# Rules about locking a busy table: they matter only for a table that existed before the run. One that an
# earlier file of the same run creates is empty and unread, so there they warn instead of refusing. The
# others are about losing data or breaking readers, which a file does wherever it runs: judged per file.
LOCK_RULES = frozenset({"index-without-concurrently", "column-type", "not-null", "table-copy", "algorithm"})
