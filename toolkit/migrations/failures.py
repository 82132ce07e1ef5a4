"""What to do about a migration that failed, by why it failed: a statement that is wrong is the file's
to fix; a lock not granted in time, a cancelled statement or a lost server are not."""

from __future__ import annotations

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
ADMIN_SHUTDOWN = ("57P01", "57P02", "57P03")  # admin_shutdown, crash_shutdown, cannot_connect_now


def transactional_hint(exc: Exception, conn) -> str:
    """The hint for a failed file that ran in a transaction (it was rolled back)."""
    code = getattr(exc, "pgcode", None)
    rolled_back = "it was rolled back and nothing of it was applied"
    if code == LOCK_NOT_AVAILABLE:
        return (
            f"another session held a lock the migration needed for longer than lock_timeout; {rolled_back}: "
            "run again once that session is done, or raise [migrations].lock_timeout (or the file's "
            "toolkit:lock_timeout directive)"
        )
    if code == QUERY_CANCELED:
        return (
            f"the statement was cancelled (statement_timeout, or someone cancelled it); {rolled_back}: "
            "run again, or raise statement_timeout"
        )
    if code in ADMIN_SHUTDOWN or getattr(conn, "closed", 0):
        return (
            f"the connection to the database was lost (the server stopped or restarted); {rolled_back}: "
            "check the server (toolkit env status), then run again"
        )
    return f"fix the migration and run again; {rolled_back}"


def partial_hint(statements: list, done: int, environment: str | None, *, row_written: bool) -> str:
    """The hint for a file outside a transaction that stopped after `done` of its statements: which
    stayed applied, and what to do, in that order (`db repair` only once the database is put right)."""
    if done:
        lines = ", ".join(str(s.line) for s in statements[:done][:20]) + (", …" if done > 20 else "")
        ran = f"{done} of its {len(statements)} statement(s) ran and stayed applied (starting on line(s) {lines})"
    else:
        ran = f"none of its {len(statements)} statement(s) had finished, so nothing of it was applied"
    row = (
        "its history row says failed and blocks further runs"
        if row_written
        else "no history row could be written (connection lost?), so it shows as pending"
    )
    return (
        f"this file runs outside a transaction (toolkit:transaction=false): {ran}; {row}: finish or undo "
        f"those statements by hand, then run `toolkit db repair {environment or 'ENV'}` to clear the row, "
        "and run again"
    )
