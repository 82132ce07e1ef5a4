"""Answers that need no command tree: `--version`, and a `--help` page this interpreter printed before.

Building the tree (typer, every command's signature) costs several times what the interpreter's own
start does, for a page that only changes when code does. So a `--help` page is kept in the per-user cache
(`support/cache.py`, `help/`), keyed by the command line, the environment variables that shape a page
(terminal, colour, typer, completion), the terminal's size, the interpreter and its path; and it is printed
again only while every module file the first run had loaded — toolkit's, typer's, the standard library's
— has the device, inode, size, mtime and ctime it had. Anything else (and `TOOLKIT_CACHE_DIR=off`)
builds the tree and runs typer as before. Only the standard library's builtins are imported here.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_RACY_NS = 2_000_000_000  # a file changed this recently may change again within the same clock tick
_SHAPING = ("TYPER", "CLICK", "TERM", "COLOR", "COLUMNS", "LINES", "TOOLKIT")
_EXACT = ("CI", "GITHUB_ACTIONS")


def answer(argv: list[str]) -> bool:
    """Print the answer to `argv` and return True when it needs no command tree; else False."""
    if argv[1:] == ["--version"]:
        from toolkit import __version__

        sys.stdout.write(f"toolkit {__version__}\n")
        sys.stdout.flush()
        return True
    key = page_key(argv)
    page = None if key is None else _cached(key)
    if page is None:
        return False
    sys.stdout.write(page)
    sys.stdout.flush()
    return True


@contextmanager
def remembering(argv: list[str]) -> Iterator[None]:
    """Around the real run: a `--help` page it prints (exit 0) is kept for `answer`."""
    key = page_key(argv)
    if key is None or cache_folder() is None:
        yield
        return
    import io

    real, captured = sys.stdout, io.StringIO()
    code: object = "not exited"
    sys.stdout = captured
    try:
        yield
    except SystemExit as exit_:
        code = exit_.code
        raise
    finally:
        sys.stdout = real
        page = captured.getvalue()
        real.write(page)
        real.flush()
        if code in (0, None) and page:
            _store(key, page)


def page_key(argv: list[str]) -> str | None:
    """What shapes the page `argv` asks for; None when `argv` is not a plain `[COMMAND ...] --help`."""
    args = argv[1:]
    if not args or args[-1] != "--help" or not all(_is_word(arg) for arg in args[:-1]):
        return None
    if any(name.endswith("_COMPLETE") for name in os.environ):
        return None  # shell completion: its answers read the project, never cached
    env = sorted((name, value) for name, value in os.environ.items() if _shapes_pages(name))
    try:
        size = tuple(os.get_terminal_size(sys.__stdout__.fileno()))
    except (AttributeError, ValueError, OSError):
        size = None
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return repr((argv, getattr(spec, "name", None), env, size, sys.executable, sys.version, sys.path))


def cache_folder() -> str | None:
    """`support/cache.py:folder()`, with os.path alone (pathlib costs more than this whole answer)."""
    chosen = os.environ.get("TOOLKIT_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return chosen
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "toolkit")


def _is_word(arg: str) -> bool:
    return arg[:1].isalpha() and arg.replace("-", "").replace("_", "").isalnum()


def _shapes_pages(name: str) -> bool:
    return name in _EXACT or any(part in name for part in _SHAPING)


def _entry(key: str) -> str:
    import zlib

    return f"help/{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}"


def _identity(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _cached(key: str) -> str | None:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, _entry(key)), "rb") as handle:
            stored_key, files, page = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if stored_key != key or any(_identity(path) != tuple(identity) for path, identity in files):
        return None
    return page


def _store(key: str, page: str) -> None:
    import time

    from toolkit.support import cache

    files = []
    now = time.time_ns()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        identity = _identity(path)
        if identity is None or now - identity[4] < _RACY_NS:
            return  # a module file that vanished or is still being written: keep nothing
        files.append((path, identity))
    cache.store_bytes(_entry(key), marshal.dumps((key, tuple(files), page)))
