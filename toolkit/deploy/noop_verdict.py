"""The verified no-op of `db migrate`: while nothing below the migrations folder and nothing in the history
table has changed since a run found nothing to do, the answer is that run's, without reading, splitting or
planning 10,000 files again and without fetching 10,000 history rows.

A verdict is written only by a run that read every file, compared every checksum with the history and
found nothing pending and no problem (`commands/db.py`). It is the SHA-256 of everything that answer
depends on, and the number of migrations applied; nothing else (no value, no name, no password):

- the migrations folder: every entry below it, recursively, by name, type and identity (device, inode,
  size, mtime and ctime in nanoseconds; through a link, the target's too). A file changed in place (even
  with its mtime put back: ctime moves), renamed, replaced, added or removed changes it; an entry changed
  within RACY_SECONDS of the scan is never trusted (a second write in the same clock tick would not show);
- the history table: a digest the server computes over every column of every row in rank order, their
  number, the bookkeeping table's version (a run would upgrade or refuse it) and the server's version;
- the environment and the database: the project's settings as loaded, the environment, the database's
  host, port, name and user, the history table's name;
- the placeholders a repeatable migration's checksum is computed with: every value of values(ENV), the
  project's constants and Flyway's built-ins (a project whose repeatables use `${flyway:timestamp}`, which
  changes every run, gets no verdict). A folder without repeatables needs none (an applied versioned file's
  checksum is of its bytes alone), and its verdict says so;
- toolkit's own code (`support/code_identity.py`) and the interpreter.

The check holds the migration lock for the read (one try, no wait): a run applying at that moment makes it
a miss, and the full run then waits for the lock as always. The database is asked in a thread while the
folder is scanned (the server digests the history meanwhile), once the environment's outputs are read in
the main thread; that session, and the lock with it, is closed before the answer is used. Anything
unexpected (no verdict, a server that is down, a MySQL database, caches off with `--no-cache` or
TOOLKIT_NO_CACHE=1) is a miss, and a miss costs the scan (and, with a verdict kept, that one question):
the full run follows, with its own errors.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import stat as stat_kind
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.deploy.context import Context
from toolkit.project.model import Environment
from toolkit.support.log import get_logger

log = get_logger(__name__)

FORMAT = 1
RACY_SECONDS = 2.0


@dataclass(frozen=True)
class Scan:
    """The migrations folder as one run saw it before reading any file: its digest (None: an entry too
    new to trust, or one that is neither file, folder nor link)."""

    digest: str | None


def scan(sql_dir: Path) -> Scan:
    """Every entry below `sql_dir` by name and identity, in the order the folders list them (sorted)."""
    entries = _Entries()
    newest = time.time_ns() - int(RACY_SECONDS * 1e9)
    try:
        trusted = _walk(os.fspath(sql_dir), "", entries, newest, {os.path.realpath(sql_dir)})
    except OSError:
        return Scan(None)
    if not trusted:
        return Scan(None)
    return Scan(entries.hexdigest())


class _Entries(list):
    """The entries in order, hashed a thousand at a time: 10,000 entries held at once were 3 MiB."""

    def __init__(self) -> None:
        super().__init__()
        self.digest = hashlib.sha256()

    def append(self, entry) -> None:
        super().append(entry)
        if len(self) >= 1024:
            self.digest.update(marshal.dumps(tuple(self)))
            self.clear()

    def hexdigest(self) -> str:
        self.digest.update(marshal.dumps(tuple(self)))
        self.clear()
        return self.digest.hexdigest()


def _walk(folder: str, prefix: str, entries: list, newest: int, seen: set[str]) -> bool:
    """Stat every entry of `folder` by name relative to one open descriptor of it (no path resolved
    10,000 times), in sorted order; False as soon as one cannot be trusted."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = os.listdir(descriptor)
        names.sort()
        for name in names:
            st = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
            if st.st_ctime_ns > newest:
                return False
            entries.append((prefix + name, st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                            st.st_ctime_ns))  # fmt: skip
            path = None
            if stat_kind.S_ISLNK(st.st_mode):  # what the link points at, as discovery follows it
                path = os.path.join(folder, name)
                st = os.stat(path)
                if st.st_ctime_ns > newest:
                    return False
                real = os.path.realpath(path)
                entries.append((real, st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
                if stat_kind.S_ISDIR(st.st_mode) and real in seen:
                    continue  # a loop: discovery refuses it, and its entry above keys that
                seen.add(real)
            if stat_kind.S_ISDIR(st.st_mode):
                if not _walk(path or os.path.join(folder, name), f"{prefix}{name}/", entries, newest, seen):
                    return False
            elif not stat_kind.S_ISREG(st.st_mode):
                return False
    finally:
        os.close(descriptor)
    return True


def verdict_file(ctx: Context, env: Environment) -> Path | None:
    """One verdict per environment and database, under the state folder's cache (None: caches are off)."""
    return ctx.cache_file(f"noop-{env.name}-{ctx.current_database.name}.json")


def stored(ctx: Context, env: Environment) -> dict | None:
    """The verdict kept for `env`'s database (None: none, or caches are off); `matches` says whether it
    was written for the scan this run makes. Read before the scan, so the database is asked meanwhile."""
    path = verdict_file(ctx, env)
    if path is None:
        return None
    try:
        verdict = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or verdict.get("format") != FORMAT:
        return None
    return verdict


def matches(verdict: dict, found: Scan) -> bool:
    """Whether `verdict` was written for this very scan of the folder."""
    return found.digest is not None and verdict.get("scan") == found.digest


def history_state(cur, history) -> tuple:
    """(rows, digest of every column of every row in rank order, bookkeeping version), computed by the
    server: one round trip, whatever the number of rows."""
    from toolkit.migrations.bookkeeping import meta_name

    cur.execute(
        f"SELECT count(*), md5(string_agg(h::text, E'\\n' ORDER BY h.installed_rank)), "
        f"(SELECT COALESCE(MAX(version), 0) FROM {meta_name(history)}) FROM {history.name} AS h"
    )
    return tuple(cur.fetchone())


def key(
    ctx: Context, env: Environment, found: Scan, target, placeholders, history, state: tuple, server: int, applied: int
) -> str:
    """What the no-op answer depends on (see the module's docstring), and the answer itself (`applied`), so
    an edited count is no verdict."""
    from toolkit.support.code_identity import toolkit_identity

    if placeholders is None:  # the folder has no repeatable: no value can change the answer
        items = builtins = constants = enabled = None
    else:
        values = placeholders.values
        items = sorted(
            (name, json.dumps(value.value, sort_keys=True, default=str), bool(value.sensitive))
            for name, value in (values.items.items() if values is not None else ())
        )
        builtins = sorted((name, text) for name, text in placeholders.builtins.items() if name != "flyway:timestamp")
        constants, enabled = sorted(placeholders.constants.items()), placeholders.enabled
    shaped = (
        FORMAT,
        sys.version,
        toolkit_identity(),
        repr(ctx.project),
        repr(env),
        ctx.current_database.name,
        ctx.endpoint,
        (target.engine, target.host, target.port, target.name, target.username),
        history.name,
        state,
        server,
        items,
        builtins,
        constants,
        enabled,
        found.digest,
        applied,
    )
    return hashlib.sha256(repr(shaped).encode("utf-8", "surrogateescape")).hexdigest()


def uses_run_timestamp(loaded) -> bool:
    """Whether a repeatable's checksum would change every run (`${flyway:timestamp}`, matched as Flyway
    matches names, without regard to case)."""
    return any("flyway:timestamp" in source.text.lower() for source in loaded.repeatable)


def remember(ctx: Context, env: Environment, found: Scan, session, history, loaded, applied: int) -> None:
    """After a full run that found nothing to do: its verdict, for the next run of the same folder."""
    path = verdict_file(ctx, env)
    if path is None or found.digest is None or session.target.engine != "postgres" or not applied:
        return
    if uses_run_timestamp(loaded):
        return
    from toolkit.support.cache import write_atomically

    with session.conn.cursor() as cur:
        state = history_state(cur, history)
    if state[0] == 0:
        return
    server = session.conn.server_version
    placeholders = session.placeholders if loaded.repeatable else None
    digest = key(ctx, env, found, session.target, placeholders, history, state, server, applied)
    verdict = {"format": FORMAT, "scan": found.digest, "key": digest, "applied": applied}
    verdict["values"] = placeholders is not None
    write_atomically(path, json.dumps(verdict).encode(), "no-op verdict")


@dataclass(frozen=True)
class Asked:
    """What the database said for the key: asked with the migration lock taken (one try), then let go."""

    target: object  # the DatabaseTarget it was asked at
    history: object  # its HistoryTable
    state: tuple  # history_state()
    server: int  # the server's version
    placeholders: object  # the run's placeholders, when the verdict's key has values (else None)


def ask(ctx: Context, env: Environment, verdict: dict, history_of) -> Callable[[], Asked | None]:
    """The database asked what the key needs, in a thread while this one scans the folder (the server
    computes the digest meanwhile); the call waits for it: None when it cannot be asked without side
    effects, or any difference (a server that is down, a run applying now, MySQL). The environment's
    outputs are read here first, in this thread: any Terraform run stays where signals reach it."""
    from toolkit.deploy.database import outputs_lock
    from toolkit.deploy.stacks import stack_outputs
    from toolkit.errors import ToolkitError

    try:
        with outputs_lock(ctx, env):
            outputs = stack_outputs(ctx, env, ctx.project.stack_order[0])
    except ToolkitError:
        return lambda: None
    # Imported here, not in the thread: an import there would hold the interpreter's lock while the scan
    # here needs it for each of its 10,000 stat calls.
    import psycopg2  # noqa: F401

    import toolkit.migrations.history  # noqa: F401

    answer: list[Asked | None] = [None]
    worker = threading.Thread(
        target=lambda: answer.__setitem__(0, _ask(ctx, env, outputs, verdict, history_of)), daemon=True
    )
    worker.start()

    def wait() -> Asked | None:
        while worker.is_alive():
            worker.join(0.1)  # in short waits, so Ctrl-C is seen at once
        return answer[0]

    return wait


def _ask(ctx: Context, env: Environment, outputs, verdict: dict, history_of) -> Asked | None:
    from toolkit.deploy.database import connect_database, database_target, placeholders_for
    from toolkit.errors import ToolkitError

    try:
        target = database_target(ctx, env, outputs)  # never starts or provisions the local server
        if target.engine != "postgres":
            return None
        conn = connect_database(target, attempts=1, lock_timeout=ctx.project.migrations.lock_timeout)
    except Exception as exc:  # noqa: BLE001  a thread's failure is a miss; the full run meets it again
        log.debug("the no-op verdict's database could not be asked: %s", exc)
        return None
    import psycopg2

    from toolkit.migrations.history import lock_key

    try:
        history = history_of(target)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(history),))
            if not cur.fetchone()[0]:
                return None  # a run is applying right now
            state = history_state(cur, history)
        placeholders = placeholders_for(ctx, env, outputs, target) if verdict.get("values") is not False else None
        return Asked(target, history, state, conn.server_version, placeholders)
    except (psycopg2.Error, ToolkitError):
        return None
    finally:
        conn.close()  # the lock with it


def check(ctx: Context, env: Environment, found: Scan, verdict: dict, asked: Asked | None) -> int | None:
    """The number of migrations applied, when the database (`asked`) and everything else is as `verdict`
    was written for; None on any difference."""
    applied = verdict.get("applied")
    if asked is None or not isinstance(applied, int) or not matches(verdict, found):
        return None
    digest = key(ctx, env, found, asked.target, asked.placeholders, asked.history, asked.state, asked.server, applied)
    return applied if digest == verdict.get("key") else None
