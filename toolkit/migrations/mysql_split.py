r"""Split a MySQL migration into statements the way the `mysql` client does, keeping each one's line.

A delimiter inside '…' or "…" strings (backslash escapes and doubled quotes), `…` identifiers, -- and #
line comments and /* */ comments does not end a statement; `/*! … */` (executable comments) stay in
the statement they are part of. `DELIMITER $$` on a line of its own changes the delimiter for the lines
after it, as in a mysql script and in Flyway's MySQL parser, so a `CREATE PROCEDURE … BEGIN …; … END$$`
is one statement; the DELIMITER lines themselves are never sent to the server.
"""

from __future__ import annotations

import re
from functools import lru_cache

from toolkit.migrations.sqlsplit import SplitError, Statement

_NEWLINES = re.compile(r"\r\n|\r|\n")
_DELIMITER_LINE = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r\n|\r|\n|$)", re.I)


def split_mysql(text: str) -> list[Statement]:
    """The statements of `text`; an unterminated string, identifier or comment is a SplitError."""
    statements: list[Statement] = []
    delimiter = ";"
    pos, n = 0, len(text)
    start: int | None = None
    lines = _Lines(text)
    while pos < n:
        if start is None:
            found = _DELIMITER_LINE.match(text, pos) if _at_line_start(text, pos) else None
            if found:
                delimiter = found[1]
                pos = found.end()
                continue
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
            continue
        if text.startswith("--", pos) and (pos + 2 >= n or text[pos + 2] in " \t\r\n"):
            pos = _line_end(text, pos)
            continue
        if char == "#":
            pos = _line_end(text, pos)
            continue
        if text.startswith("/*", pos) and not text.startswith("/*!", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise SplitError("unterminated /* comment", lines.at(pos))
            pos = end + 2
            continue
        if text.startswith(delimiter, pos):
            if start is not None:
                statements.append(Statement(text[start:pos].rstrip(), lines.at(start), start))
                start = None
            pos += len(delimiter)
            continue
        if start is None:
            start = pos
        if char in "'\"`":
            pos = _skip_quoted(text, pos, char, lines)
        elif text.startswith("/*!", pos):
            end = text.find("*/", pos + 3)
            if end < 0:
                raise SplitError("unterminated /*! comment", lines.at(pos))
            pos = end + 2
        else:
            pos = _ordinary_run(delimiter).match(text, pos + 1).end()
    if start is not None and text[start:].strip():
        statements.append(Statement(text[start:].rstrip(), lines.at(start), start))
    return statements


@lru_cache(maxsize=16)
def _ordinary_run(delimiter: str) -> re.Pattern[str]:
    """The characters the loop would step over one by one inside a statement: none of them can open a
    comment, a string or an identifier, or begin the delimiter (a statement's text is mostly these, and a
    regex crosses them in one step). Whitespace is among them: inside a statement it only matters after
    `--`, which the loop checks at the `-`, and a DELIMITER line counts only between statements."""
    stops = re.escape("-#/'\"`" + delimiter[0])
    return re.compile(f"[^{stops}]*")


class _Lines:
    """Line numbers of offsets asked for in increasing order, counted on from the last one asked (a
    file of many statements costs one pass, not one count from the top per statement)."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.offset:
            return _line(self.text, offset)
        # No line break straddles `self.offset`: it is a statement's first character or later.
        self.line += len(_NEWLINES.findall(self.text, self.offset, offset))
        self.offset = offset
        return self.line


def _at_line_start(text: str, pos: int) -> bool:
    back = pos
    while back > 0 and text[back - 1] in " \t":
        back -= 1
    return back == 0 or text[back - 1] in "\r\n"


def _line_end(text: str, pos: int) -> int:
    found = _NEWLINES.search(text, pos)
    return len(text) if found is None else found.start()


def _line(text: str, pos: int) -> int:
    return len(_NEWLINES.findall(text, 0, pos)) + 1


def _skip_quoted(text: str, at: int, quote: str, lines: _Lines) -> int:
    """The offset just after the quoted string or identifier opening at `at`."""
    pos, n = at + 1, len(text)
    while pos < n:
        char = text[pos]
        if char == "\\" and quote != "`":
            pos += 2
            continue
        if char == quote:
            if text.startswith(quote, pos + 1):  # a doubled quote is the quote itself
                pos += 2
                continue
            return pos + 1
        pos += 1
    kind = "identifier" if quote == "`" else "string"
    raise SplitError(f"unterminated {quote}…{quote} {kind}", lines.at(at))
