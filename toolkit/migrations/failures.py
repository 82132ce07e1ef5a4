"""What to do about a migration that failed, by why it failed: a statement that is wrong is the file's
to fix; a lock not granted in time, a cancelled statement or a lost server are not."""

from __future__ import annotations

import re

from toolkit.migrations.sqlsplit import Statement, line_of
from toolkit.support.masking import mask_secretlike

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


_DO_BODY = re.compile(r"DO\b(?:\s+LANGUAGE\s+\S+)?\s+(?:\$[A-Za-z_]*\$|[Ee]?')", re.I)
_DO_LINE = re.compile(r"inline_code_block line (\d+)")


def describe_failure(step, statement: Statement | None, exc, shift: int = 0) -> str:
    """The failure of a migration with its file:line; `shift`: characters sent before the statement in its
    query string (the BEGIN that rode with it), which the server's error position counts."""
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip()
    position = getattr(diag, "statement_position", None)
    context = " ".join((getattr(diag, "context", None) or "").split())  # PL/pgSQL's call stack, one line
    where = step.file.script
    if statement is not None:
        position = int(position) - shift if position else 0
        line = line_of(statement, position) if position > 0 else statement.line
        where = f"{where}:{_do_block_line(statement, context) or _copy_line(statement, context) or line}"
    detail = getattr(diag, "message_detail", None)
    code = getattr(exc, "pgcode", None)
    what = f"migration {step.file.version}" if step.file.version else "repeatable migration"
    return mask_secretlike(  # the error quotes the file's literals and the row's values (DETAIL)
        f"{where}: {what} failed: {message}"
        + (f" ({detail})" if detail else "")
        + (f" (context: {context})" if context else "")
        + (f" [SQLSTATE {code}]" if code else "")
    )


_COPY_LINE = re.compile(r"^COPY \S+, line (\d+)")


def _copy_line(statement: Statement, context: str) -> int | None:
    """The file line of a bad row of COPY … FROM STDIN ("COPY t, line 2, column b: …" counts data lines)."""
    found = _COPY_LINE.match(context) if statement.copy_data is not None else None
    if found is None:
        return None
    return line_of(statement, len(statement.sql) + 1) + int(found[1])


def _do_block_line(statement: Statement, context: str) -> int | None:
    """The file line of an error inside a DO block: PostgreSQL numbers the block's lines from the one
    its body opens on ("PL/pgSQL function inline_code_block line 4 at RAISE")."""
    opening = _DO_BODY.match(statement.sql)
    found = _DO_LINE.findall(context) if opening else []
    if not found:
        return None
    return line_of(statement, opening.end()) + int(found[-1]) - 1  # the outermost frame is the block
