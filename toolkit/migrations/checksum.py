"""Flyway's checksum, bit for bit, so a database Flyway migrated can be taken over as it is.

Flyway feeds CRC32 each line as read by Java's BufferedReader.readLine() (which ends a line at \\n,
\\r or \\r\\n and drops the terminator), with a byte-order mark removed from the first line, and stores
the result as a signed 32-bit int. Feeding lines one by one equals one CRC over their concatenation,
so removing every \\r and \\n and hashing once gives the same value, in one pass.
"""

from __future__ import annotations

import zlib

BOM = "\ufeff"
_LINE_ENDS = str.maketrans("", "", "\r\n")


def flyway_checksum(text: str) -> int:
    if text.startswith(BOM):
        text = text[1:]
    unsigned = zlib.crc32(text.translate(_LINE_ENDS).encode("utf-8"))
    return unsigned - (1 << 32) if unsigned >= (1 << 31) else unsigned
