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

_INTERESTING = re.compile(r"""--|/\*|[';"$\n\r]|[A-Za-z_][A-Za-z0-9_$]*""")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_BLOCK = re.compile(r"/\*|\*/|\n|\r\n?")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_COPY_FROM_STDIN = re.compile(r"COPY\b.*\bFROM\s+STDIN\b", re.I | re.S)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # from its first token to just before its `;` (comments before it are left out)
    line: int  # 1-based line of its first token in the file
    offset: int  # character offset of its first token in the file
    copy_data: str | None = None  # COPY … FROM STDIN: the data lines that follow it, as written


class SplitError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _lines_in(text: str, start: int, end: int) -> int:
    return len(_NEWLINES.findall(text, start, end))


def split_statements(text: str) -> list[Statement]:
    """The statements of `text`; an unterminated string, identifier, body or comment is a SplitError."""
    statements: list[Statement] = []
    pos, line = 0, 1
    start: int | None = None  # offset of the current statement's first token
    start_line = 1
    words: list[str] = []  # the last two words, to see BEGIN ATOMIC
    atomic = 0  # > 0 inside BEGIN ATOMIC: CASE … END and the body's own END nest
    n = len(text)
    while True:
        match = _INTERESTING.search(text, pos)
        if match is None:
            break
        token, at = match.group(), match.start()
        if token in ("\n", "\r"):
            pos = at + 2 if token == "\r" and text.startswith("\n", at + 1) else at + 1
            line += 1
            continue
        if token == "--":
            end = _NEWLINES.search(text, at)
            pos = end.start() if end else n
            continue
        if token == "/*":
            pos, line = _skip_block_comment(text, at, line)
            continue
        if start is None and token != ";":
            start, start_line = at, line
        if token == ";":
            if atomic:
                pos = at + 1
                continue
            pos = at + 1
            if start is not None:
                sql = text[start:at].rstrip()
                if _COPY_FROM_STDIN.match(sql):
                    data, pos, lines = _copy_data(text, pos, line)
                    statements.append(Statement(sql, start_line, start, data))
                    line += lines
                else:
                    statements.append(Statement(sql, start_line, start))
            start, words = None, []
            continue
        if token in ("'", '"'):
            escapes = token == "'" and at > 0 and text[at - 1] in "eE" and not _word_char(text, at - 2)
            end = _skip_quoted(text, at, token, escapes)
            if end < 0:
                raise SplitError(f"unterminated {'string' if token == chr(39) else 'quoted identifier'}", line)
            line += _lines_in(text, at, end)
            pos = end
            continue
        if token == "$":
            tag = _DOLLAR_TAG.match(text, at)
            if tag is None or _word_char(text, at - 1):
                pos = at + 1  # $1 parameters, or a `$` inside an identifier
                continue
            close = text.find(tag.group(), tag.end())
            if close < 0:
                raise SplitError(f"unterminated dollar-quoted body {tag.group()}", line)
            end = close + len(tag.group())
            line += _lines_in(text, at, end)
            pos = end
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
    if start is not None and text[start:].strip():
        statements.append(Statement(text[start:].rstrip(), start_line, start))
    return statements


def _copy_data(text: str, pos: int, line: int) -> tuple[str, int, int]:
    """The data after a `COPY … FROM STDIN;` that ends at `pos`: (the lines after the rest of its line, up
    to the `\\.` line; the offset after that line; how many line ends were passed)."""
    end = _NEWLINES.search(text, pos)
    if end is None:
        raise SplitError("COPY … FROM STDIN has no data lines after it, nor the `\\.` line that ends them", line)
    start, passed = end.end(), 1
    cursor = start
    while True:
        end = _NEWLINES.search(text, cursor)
        stop = end.start() if end else len(text)
        if text[cursor:stop].strip() == "\\.":
            return text[start:cursor], end.end() if end else stop, passed + (1 if end else 0)
        if end is None:
            raise SplitError("the data of COPY … FROM STDIN does not end with a line holding only `\\.`", line)
        cursor, passed = end.end(), passed + 1


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


def _skip_block_comment(text: str, at: int, line: int) -> tuple[int, int]:
    depth, opened = 0, line
    for match in _BLOCK.finditer(text, at):
        token = match.group()
        if token == "/*":
            depth += 1
        elif token == "*/":
            depth -= 1
            if depth == 0:
                return match.end(), line
        else:
            line += 1
    raise SplitError("unterminated /* comment", opened)


def line_of(statement: Statement, position: int) -> int:
    """The file line of a 1-based character position inside a statement (PostgreSQL's error position)."""
    return statement.line + _lines_in(statement.sql, 0, max(position - 1, 0))
