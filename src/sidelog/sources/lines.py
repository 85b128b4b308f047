"""Bytes to lines with bounded memory, for child pipes, files and stdin.

A dev server or a log file can hold a line of any length (a minified bundle, a
base64 blob, a file that is all NUL bytes). The splitter keeps at most ``limit``
bytes of a line; the rest is counted and skipped up to the next newline without
being buffered, so a 2 GB line costs ``limit`` bytes of memory, not 2 GB. A cut
line keeps its prefix plus a visible marker, so nothing is shortened silently.

Text is decoded as UTF-8 with replacement characters (a log is data, never a
reason to fail), a trailing ``\\r`` is dropped (CRLF files), and NUL bytes are
removed from the text: they are what a crash or a pre-allocated log file leaves
behind, never content, and they would break C-string tools reading the database.
``raw`` keeps the bytes exactly as read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import NamedTuple

MAX_LINE_BYTES = 1024 * 1024
"""Default longest line kept whole; the same as the server's default line limit."""

READ_CHUNK = 64 * 1024
"""How much ``split_stream`` asks a reader for at a time."""


def cut_marker(cut: int) -> str:
    """The visible suffix of a line whose end was discarded (``cut`` bytes)."""
    return f" …[cut: {cut} bytes]"


class Line(NamedTuple):
    """One complete line of a byte stream (a named tuple: one is made per line read)."""

    text: str
    """Decoded text: no line end, no NUL, plus ``cut_marker`` when the line was cut."""
    raw: bytes
    """The kept bytes as read, without the ``\\n`` (a ``\\r`` before it stays)."""
    offset: int
    """Stream offset of the line's first byte."""
    size: int
    """Bytes the line took in the stream: kept, discarded and its newline."""
    cut: int = 0
    """Bytes discarded beyond the limit; 0 for a whole line."""


def _utf8_boundary(data: bytes, limit: int) -> int:
    """The largest cut point ≤ ``limit`` that does not split a UTF-8 character."""
    cut = limit
    # Back off over continuation bytes (0b10xxxxxx): at most three in valid UTF-8.
    while cut > limit - 3 and cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def _decode(raw: bytes, cut: int) -> str:
    body = raw[:-1] if raw.endswith(b"\r") else raw
    text = body.decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text + cut_marker(cut) if cut else text


class LineSplitter:
    """Feed it chunks, get complete lines back; memory stays under ``limit`` plus a chunk.

    Offsets count from ``offset`` (where the stream was opened), so a reader that
    resumes a file mid-way still reports true file positions.
    """

    def __init__(self, limit: int = MAX_LINE_BYTES, offset: int = 0) -> None:
        if limit < 4:
            raise ValueError("limit must be at least 4 bytes")
        self.limit = limit
        self.position = offset
        """Stream offset of the first byte not yet returned as part of a line."""
        self.cut_lines = 0
        """Lines cut so far."""
        self.cut_bytes = 0
        """Bytes discarded so far from cut lines."""
        self._pending = b""
        self._discarding = False
        self._dropped = 0

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished line (never more than ``limit`` + one chunk)."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[Line]:
        """The lines completed by ``data``, in order."""
        lines: list[Line] = []
        if not data:
            return lines
        start = 0
        if self._discarding:
            newline = data.find(b"\n")
            if newline < 0:
                self._dropped += len(data)
                return lines
            self._dropped += newline
            lines.append(self._finish_cut(newline_size=1))
            start = newline + 1
            if start == len(data):
                return lines
        pieces = (data[start:] if start else data).split(b"\n")
        if self._pending:
            pieces[0] = self._pending + pieces[0]
        tail = pieces.pop()
        limit = self.limit
        position = self.position
        for piece in pieces:
            size = len(piece) + 1
            if len(piece) <= limit:
                lines.append(Line(_decode(piece, 0), piece, position, size))
            else:
                keep = _utf8_boundary(piece, limit)
                cut = len(piece) - keep
                self.cut_lines += 1
                self.cut_bytes += cut
                kept = piece[:keep]
                lines.append(Line(_decode(kept, cut), kept, position, size, cut))
            position += size
        self.position = position
        if len(tail) > limit:
            keep = _utf8_boundary(tail, limit)
            self._pending = tail[:keep]
            self._dropped = len(tail) - keep
            self._discarding = True
        else:
            self._pending = tail
        return lines

    def finish(self) -> list[Line]:
        """The last line if the stream ended without a newline (then the splitter is empty)."""
        if self._discarding:
            return [self._finish_cut(newline_size=0)]
        if not self._pending:
            return []
        raw = self._pending
        line = Line(_decode(raw, 0), raw, self.position, len(raw))
        self.position += len(raw)
        self._pending = b""
        return [line]

    def reset(self, offset: int = 0) -> None:
        """Forget any unfinished line and restart at ``offset`` (a truncated file)."""
        self._pending = b""
        self._discarding = False
        self._dropped = 0
        self.position = offset

    def _finish_cut(self, *, newline_size: int) -> Line:
        kept = self._pending
        cut = self._dropped
        size = len(kept) + cut + newline_size
        line = Line(_decode(kept, cut), kept, self.position, size, cut)
        self.cut_lines += 1
        self.cut_bytes += cut
        self.position += size
        self._pending = b""
        self._discarding = False
        self._dropped = 0
        return line


async def split_stream(
    reader: asyncio.StreamReader, *, limit: int = MAX_LINE_BYTES, chunk: int = READ_CHUNK
) -> AsyncIterator[list[Line]]:
    """The lines of an asyncio stream, one list per chunk read, the last one at EOF.

    ``reader.read`` returns whatever is available, so a line is handed on as soon
    as its newline arrives, not when a buffer fills.
    """
    splitter = LineSplitter(limit)
    while True:
        data = await reader.read(chunk)
        if not data:
            break
        lines = splitter.feed(data)
        if lines:
            yield lines
    last = splitter.finish()
    if last:
        yield last
