r"""Split a migration into statements, the way PostgreSQL's lexer sees them, keeping each one's line.

Semicolons inside '…' and E'…' strings, "…" identifiers, $tag$…$tag$ bodies, -- and nested /* */
comments, and SQL-standard `BEGIN ATOMIC … END` bodies do not end a statement. Running statements one
by one is what lets an error name the exact line, and lets non-transactional files run at all.

`COPY … FROM STDIN;` is followed by its data, as in a psql script and as Flyway reads it: the lines after
the statement's own, up to a line holding only `\.`, belong to it (`Statement.copy_data`) and are never
read as SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words matter only around `BEGIN ATOMIC … END` (whose `;` do not end the statement), so they are tokens
# only in a text that says ATOMIC somewhere; any other text is scanned from quote to comment to `;`,
# and line numbers are counted (in C) only where a statement starts.
_TOKENS = re.compile(r"""--|/\*|[';"$]""")
_TOKENS_AND_WORDS = re.compile(r"""--|/\*|[';"$]|[A-Za-z_][A-Za-z0-9_$]*""")
_ATOMIC = re.compile(r"atomic", re.I)
# PostgreSQL's dollar-quote tag (scan.l: dolq_start, dolq_cont): a letter, `_` or any non-ASCII character,
# then those or digits. Written as the ASCII characters it is not: a class spanning \x80-\uffff takes the
# regex compiler 4 ms, a fixed cost of every start-up that imports this module.
_DOLLAR_TAG = re.compile(r"\$([^\x00-@\[-^`{-\x7f][^\x00-/:-@\[-^`{-\x7f]*)?\$")
_BLOCK = re.compile(r"/\*|\*/")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_COPY_FROM_STDIN = re.compile(r"COPY\b.*\bFROM\s+STDIN\b", re.I | re.S)
# PostgreSQL's whitespace (scan.l): a statement starts at the first other character outside a comment.
_SPACE = " \t\n\r\f\v"
_NOT_SPACE = re.compile(r"[^ \t\n\r\f\v]")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # from its first character to just before its `;` (comments before it are left out)
    line: int  # 1-based line of its first character in the file
    offset: int  # character offset of its first character in the file
    copy_data: str | None = None  # COPY … FROM STDIN: the data lines that follow it, as written


class SplitError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _lines_in(text: str, start: int, end: int) -> int:
    return len(_NEWLINES.findall(text, start, end))


class _Lines:
    """Line numbers of offsets met in increasing order, counted forward from the last one asked."""

    __slots__ = ("text", "cr", "offset", "line")

    def __init__(self, text: str) -> None:
        self.text, self.cr, self.offset, self.line = text, "\r" in text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.offset:
            return 1 + _lines_in(self.text, 0, offset)
        text = self.text
        self.line += _lines_in(text, self.offset, offset) if self.cr else text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def split_statements(text: str) -> list[Statement]:
    """The statements of `text`; an unterminated string, identifier, body or comment is a SplitError."""
    statements: list[Statement] = []
    tokens = _TOKENS_AND_WORDS if _ATOMIC.search(text) else _TOKENS
    lines = _Lines(text)
    pos = scan = 0  # scan: where the next statement's first character is looked for
    start: int | None = None  # offset of the current statement's first character
    words: list[str] = []  # the last two words, to see BEGIN ATOMIC
    atomic = 0  # > 0 inside BEGIN ATOMIC: CASE … END and the body's own END nest
    n = len(text)
    while True:
        match = tokens.search(text, pos)
        if match is None:
            break
        token, at = match.group(), match.start()
        if start is None:
            first = _NOT_SPACE.search(text, scan, at)  # `(`, a digit: characters no token matches
            if first is not None:
                start = first.start()
            elif token not in ("--", "/*", ";"):
                start = at
        if token == "--":
            end = _NEWLINES.search(text, at)
            pos = end.start() if end else n
            scan = pos if start is None else scan
            continue
        if token == "/*":
            pos = _skip_block_comment(text, at, lines)
            scan = pos if start is None else scan
            continue
        if token == ";":
            pos = at + 1
            if atomic:
                continue
            if start is not None:
                sql = text[start:at].rstrip(_SPACE)
                if _COPY_FROM_STDIN.match(sql):
                    data, pos = _copy_data(text, pos, lines.at(at))
                    statements.append(Statement(sql, lines.at(start), start, data))
                else:
                    statements.append(Statement(sql, lines.at(start), start))
            start, words, scan = None, [], pos
            continue
        if token in ("'", '"'):
            escapes = token == "'" and at > 0 and text[at - 1] in "eE" and not _word_char(text, at - 2)
            end = _skip_quoted(text, at, token, escapes)
            if end < 0:
                what = "string" if token == "'" else "quoted identifier"
                raise SplitError(f"unterminated {what}", lines.at(at))
            pos = end
            continue
        if token == "$":
            tag = _DOLLAR_TAG.match(text, at)
            if tag is None or _word_char(text, at - 1):
                pos = at + 1  # $1 parameters, or a `$` inside an identifier
                continue
            close = text.find(tag.group(), tag.end())
            if close < 0:
                raise SplitError(f"unterminated dollar-quoted body {tag.group()}", lines.at(at))
            pos = close + len(tag.group())
            continue
        word = token.upper()
        if _after_dot(text, at):  # `t.case`, `t . end`: a column name, not a keyword
            pos = match.end()
            continue
        if word == "ATOMIC" and words[-1:] == ["BEGIN"] or atomic and word == "CASE":
            atomic += 1
        elif atomic and word == "END":
            atomic -= 1
        words = (words + [word])[-2:]
        pos = match.end()
    if start is None:
        first = _NOT_SPACE.search(text, scan)
        start = first.start() if first is not None else None
    if start is not None:
        sql = text[start:].rstrip(_SPACE)
        if sql:
            statements.append(Statement(sql, lines.at(start), start))
    return statements


def _copy_data(text: str, pos: int, line: int) -> tuple[str, int]:
    """The data after a `COPY … FROM STDIN;` that ends at `pos`: (the lines after the rest of its line, up
    to the `\\.` line; the offset after that line)."""
    end = _NEWLINES.search(text, pos)
    if end is None:
        raise SplitError("COPY … FROM STDIN has no data lines after it, nor the `\\.` line that ends them", line)
    start = cursor = end.end()
    while True:
        end = _NEWLINES.search(text, cursor)
        stop = end.start() if end else len(text)
        if text[cursor:stop].strip() == "\\.":
            return text[start:cursor], end.end() if end else stop
        if end is None:
            raise SplitError("the data of COPY … FROM STDIN does not end with a line holding only `\\.`", line)
        cursor = end.end()


def _after_dot(text: str, at: int) -> bool:
    """Whether the word at `at` follows a `.` (spaces between allowed), i.e. is a qualified name."""
    i = at - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return i >= 0 and text[i] == "."


def _word_char(text: str, index: int) -> bool:
    return index >= 0 and (text[index].isalnum() or text[index] in "_$")


def _skip_quoted(text: str, at: int, quote: str, escapes: bool) -> int:
    """The offset just after the closing quote, or -1."""
    i = at + 1
    while True:
        j = text.find(quote, i)
        if j < 0:
            return -1
        if escapes:
            backslashes = 0
            k = j - 1
            while k > at and text[k] == "\\":
                backslashes += 1
                k -= 1
            if backslashes % 2:
                i = j + 1
                continue
        if text.startswith(quote, j + 1):  # a doubled quote stands for itself
            i = j + 2
            continue
        return j + 1


def _skip_block_comment(text: str, at: int, lines: _Lines) -> int:
    """The offset just after the `*/` that closes the (nested) comment opened at `at`."""
    depth = 0
    for match in _BLOCK.finditer(text, at):
        depth += 1 if match.group() == "/*" else -1
        if depth == 0:
            return match.end()
    raise SplitError("unterminated /* comment", lines.at(at))


def line_of(statement: Statement, position: int) -> int:
    """The file line of a 1-based character position inside a statement (PostgreSQL's error position)."""
    return statement.line + _lines_in(statement.sql, 0, max(position - 1, 0))
