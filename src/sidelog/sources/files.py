"""Lines from files and stdin, each with an idempotency key, for ``sidelog import``.

Plain files (``.jsonl``, ``.log``, anything), gzip files (recognised by their
magic bytes, so ``app.log.1`` compressed without the suffix works too; streamed
with a cap on the decompressed size, so a zip bomb stops with an error instead
of filling memory or the disk) and stdin. ``follow=True`` keeps reading a plain
file as it grows, like ``tail -F``: a new inode at the path is a rotation (the
old file is read to its end first), a size below the read position is a
truncation (read again from the start), a missing file is waited for.

Idempotency keys (``LineKeys``) are derived from the file's identity and the
line's offset: the identity is the hash of the file's first line, the offset is
the line's position in the (decompressed) stream, and a chained content hash
(the previous line's hash with this line's bytes) names the line *and everything
before it*. A copy, a renamed rotation or a gzipped rotation of a file imported
before yields the same keys (decompressed bytes are hashed) and is stored once; a
file that grew since stores only its new lines; two files share keys only as far
as they are byte-identical from their first byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import sys
import zlib
from collections.abc import AsyncIterator
from typing import NamedTuple, Protocol, cast

from sidelog.sources.lines import MAX_LINE_BYTES, Line, LineSplitter
from sidelog.sources.progress import human_size

POLL_S = 0.5
"""How often a followed file is checked for new data, rotation or truncation."""
MAX_DECOMPRESSED_BYTES = 4 * 1024**3
"""Decompressed bytes allowed per gzip file before it is taken for a zip bomb."""
READ_CHUNK = 256 * 1024
"""Bytes read (or decompressed) at a time: bounds one batch to this many lines."""
KEY_PREFIX = "imp2-"
"""Marks import keys (and their scheme's version) among other ``id`` values; 45 chars in all."""
_GZIP_MAGIC = b"\x1f\x8b"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_blake2b = hashlib.blake2b


class Readable(Protocol):
    """What is read from: a binary file object with ``read1`` (``open(p, "rb")``, ``sys.stdin.buffer``)."""

    def read1(self, size: int = ..., /) -> bytes:
        """At most ``size`` bytes from one read: a pipe's data as it arrives."""

    def fileno(self) -> int:
        """The descriptor (for ``fstat`` and the event loop)."""

    def close(self) -> None:
        """Let go of the descriptor."""

    def tell(self) -> int:
        """The read position (to notice a truncated file)."""

    def seek(self, offset: int, whence: int = ..., /) -> int:
        """Move the read position (back to 0 after a truncation)."""


class SourceError(RuntimeError):
    """A source cannot be read (further); lines handed on before it stay imported."""


class KeyedLine(NamedTuple):
    """A line of a file or stdin with its idempotency key.

    A named tuple, not a frozen dataclass: one is made per line imported, and a
    frozen dataclass costs five times as much to build.
    """

    text: str
    key: str
    offset: int
    """Byte offset in the (decompressed) stream."""
    cut: int = 0


class LineKeys:
    """Keys that sort in file order: ``KEY_PREFIX + identity + offset + chain``, hex.

    ``identity`` (48 bits) is the chain hash of the first line, ``offset`` the
    line's stream offset (12 digits, zero-padded: past 256 TiB a key grows and
    only its order suffers), ``chain`` 64 bits of
    ``blake2b(chain(n-1) + bytes(n))``. Two keys are equal only when the chain is,
    that is when both files are byte-identical up to that line.

    The order matters to the store: the unique index on ``event_uid`` receives a
    file's keys in ascending order, so each insert (and each look-up for a key
    already stored) lands on the index's rightmost pages of that file's range, hot
    in the cache, instead of a random page of a large index. Random keys (a bare
    hash) made every imported event cost a page miss and a split somewhere.

    Position alone (``dev:ino:offset``) breaks on copies and collides when an inode
    is reused after a delete, silently dropping new lines; a hash of the first
    4 KiB plus an offset changes while a small file grows and collides for
    different lines of files sharing a header. The chain avoids all three.
    """

    __slots__ = ("_previous", "_identity")

    def __init__(self) -> None:
        self._previous = b""
        self._identity = ""

    def keyed(self, lines: list[Line]) -> list[KeyedLine]:
        """The next ``lines`` with their keys (one loop: it runs for every line imported)."""
        out: list[KeyedLine] = []
        previous, identity = self._previous, self._identity
        for line in lines:
            raw = line.raw + b"\0cut:%d" % line.cut if line.cut else line.raw
            previous = _blake2b(previous + raw, digest_size=16).digest()
            if not identity:
                identity = KEY_PREFIX + previous[:6].hex()
            key = f"{identity}{line.offset:012x}{previous[:8].hex()}"
            out.append(KeyedLine(line.text, key, line.offset, line.cut))
        self._previous, self._identity = previous, identity
        return out

    def reset(self) -> None:
        """Start a new chain (a truncated or replaced file is a new history)."""
        self._previous = b""
        self._identity = ""


class FileReader:
    """One file (or ``-`` for stdin) as batches of ``KeyedLine``.

    ``total``/``consumed`` (input bytes, compressed for gzip) and ``lines`` feed
    a progress display while ``batches`` runs.
    """

    def __init__(
        self,
        path: str,
        *,
        follow: bool = False,
        poll_s: float = POLL_S,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
        chunk: int = READ_CHUNK,
        stdin: Readable | None = None,
    ) -> None:
        self.path = path
        self.name = "stdin" if path == "-" else path
        self.follow = follow and path != "-"
        self.total: int | None = None
        self.consumed = 0
        self.lines = 0
        self.compressed = False
        self.rotations = 0
        self.truncations = 0
        self._poll_s = poll_s
        self._max_out = max_decompressed_bytes
        self._chunk = chunk
        self._stdin = stdin
        self._splitter = LineSplitter(max_line_bytes)
        self._keys = LineKeys()

    @property
    def cut_lines(self) -> int:
        """Lines longer than the limit, kept cut."""
        return self._splitter.cut_lines

    async def batches(self) -> AsyncIterator[list[KeyedLine]]:
        """Lists of lines in file order. While following, an empty list means "caught up"."""
        if self.path == "-":
            chunks = self._stdin_chunks()
        else:
            handle = await self._open()
            if self.follow:
                first = await asyncio.to_thread(handle.read1, self._chunk)
                if not first.startswith(_GZIP_MAGIC):
                    self._refuse_binary(first)
                    async for batch in self._follow(handle, first):
                        yield batch
                    return
                self.follow = False  # a compressed file does not grow: read it once
                chunks = _prepend(first, _file_chunks(handle, self._chunk))
            else:
                chunks = _file_chunks(handle, self._chunk)
        async for batch in self._once(chunks):
            yield batch

    # reading once ------------------------------------------------------------------

    async def _once(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[list[KeyedLine]]:
        first = await anext(chunks, b"")
        while 0 < len(first) < len(_GZIP_MAGIC):  # a pipe may hand over a single byte first
            more = await anext(chunks, b"")
            if not more:
                break
            first += more
        if first.startswith(_GZIP_MAGIC):
            self.compressed = True
            chunks = self._gunzip(_prepend(first, chunks))
        else:
            chunks = _prepend(first, chunks)
        sniffed = False
        async for data in chunks:
            if not sniffed:
                self._refuse_binary(data)
                sniffed = True
            if not self.compressed:
                self.consumed += len(data)
            batch = self._keyed(self._splitter.feed(data))
            if batch:
                yield batch
        batch = self._keyed(self._splitter.finish())
        if batch:
            yield batch

    async def _gunzip(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Decompressed bytes, at most ``chunk`` at a time (``unconsumed_tail`` keeps the rest)."""
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        produced = 0
        async for data in chunks:
            self.consumed += len(data)
            pending = data
            while pending:
                try:
                    out = inflater.decompress(pending, self._chunk)
                except zlib.error as exc:
                    raise SourceError(self._stop_reason(f"corrupt gzip data ({exc})")) from None
                pending = inflater.unconsumed_tail
                produced += len(out)
                if produced > self._max_out:
                    raise SourceError(
                        self._stop_reason(
                            f"decompresses past the cap of {human_size(self._max_out)} (a zip bomb?)",
                            hint="raise --max-decompressed if the file is genuine",
                        )
                    )
                if out:
                    yield out
                if inflater.eof:
                    rest = inflater.unused_data
                    if rest.startswith(_GZIP_MAGIC):  # concatenated gzip members
                        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                        pending = rest
                    elif rest.strip(b"\0"):
                        raise SourceError(self._stop_reason("trailing data after the gzip stream"))
                    else:
                        pending = b""
        if not inflater.eof:
            raise SourceError(self._stop_reason("truncated gzip (the file ends mid-stream)"))

    def _stop_reason(self, reason: str, hint: str = "") -> str:
        text = f"{self.name}: {reason}; what came before it was imported ({self.lines:,} lines)"
        return f"{text}; {hint}" if hint else text

    # following -----------------------------------------------------------------------

    async def _follow(self, handle: Readable, data: bytes) -> AsyncIterator[list[KeyedLine]]:
        caught_up = False
        try:
            while True:
                if data:
                    caught_up = False
                    self.consumed += len(data)
                    batch = self._keyed(self._splitter.feed(data))
                    if batch:
                        yield batch
                    data = await asyncio.to_thread(handle.read1, self._chunk)
                    continue
                if not caught_up:
                    caught_up = True
                    self.total = None  # a followed file has no end: no share, no ETA
                    yield []
                await asyncio.sleep(self._poll_s)
                data = await asyncio.to_thread(handle.read1, self._chunk)
                if data:
                    continue
                replaced = self._replaced(handle)
                if replaced is not None:
                    # Rotated: the old file was read to its end just now.
                    batch = self._keyed(self._splitter.finish())
                    if batch:
                        yield batch
                    handle.close()
                    handle = replaced
                    self.rotations += 1
                    self._restart()
                elif os.fstat(handle.fileno()).st_size < handle.tell():
                    handle.seek(0)
                    self.truncations += 1
                    self._restart()
                data = await asyncio.to_thread(handle.read1, self._chunk)
        finally:
            handle.close()

    def _replaced(self, handle: Readable) -> Readable | None:
        """The file now at the path, if it is not the one open (a deleted path: ``None``)."""
        try:
            now = os.stat(self.path)
        except OSError:
            return None  # gone for now: keep reading the open one and wait for it
        was = os.fstat(handle.fileno())
        if (now.st_dev, now.st_ino) == (was.st_dev, was.st_ino):
            return None
        try:
            return _open_binary(self.path)
        except OSError:
            return None

    def _refuse_binary(self, start: bytes) -> None:
        """Refuse a SQLite database (a sidelog store, say): read as lines, it would store
        hundreds of events of binary garbage. Other NUL bytes are left alone: a crash or
        logrotate's ``copytruncate`` leaves runs of them in real log files."""
        if start.startswith(_SQLITE_MAGIC):
            raise SourceError(
                f"{self.name}: is a SQLite database, not a log file (read it with sidelog export --db)"
            )

    def _restart(self) -> None:
        """A new history from offset 0: new splitter state, new key chain."""
        self._splitter.reset(0)
        self._keys.reset()

    # shared --------------------------------------------------------------------------

    async def _open(self) -> Readable:
        while True:
            try:
                handle = _open_binary(self.path)
            except FileNotFoundError:
                if not self.follow:
                    raise SourceError(f"{self.name}: no such file") from None
                await asyncio.sleep(self._poll_s)  # tail -F: wait for it to appear
                continue
            except OSError as exc:
                raise SourceError(f"{self.name}: {(exc.strerror or str(exc)).lower()}") from None
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                handle.close()
                raise SourceError(f"{self.name}: is a directory")
            self.total = info.st_size if stat.S_ISREG(info.st_mode) else None
            return handle

    async def _stdin_chunks(self) -> AsyncIterator[bytes]:
        source = self._stdin if self._stdin is not None else cast(Readable, sys.stdin.buffer)
        mode = os.fstat(source.fileno()).st_mode
        if stat.S_ISREG(mode):  # `sidelog import - < file`: a file, read it as one
            self.total = os.fstat(source.fileno()).st_size
            async for data in _file_chunks(source, self._chunk, close=False):
                yield data
            return
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=self._chunk)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), source)
        try:
            while data := await reader.read(self._chunk):
                yield data
        finally:
            transport.close()

    def _keyed(self, lines: list[Line]) -> list[KeyedLine]:
        self.lines += len(lines)
        return self._keys.keyed(lines)


def _open_binary(path: str) -> Readable:
    # Opening a local file does not block for long; reads go through a thread.
    return open(path, "rb")  # noqa: SIM115 - closed by the reading loop that owns it


async def _file_chunks(handle: Readable, chunk: int, *, close: bool = True) -> AsyncIterator[bytes]:
    try:
        # read1: one read, so a pipe's data is handed on as it comes, not per full chunk.
        while data := await asyncio.to_thread(handle.read1, chunk):
            yield data
    finally:
        if close:
            handle.close()


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for data in rest:
        yield data
