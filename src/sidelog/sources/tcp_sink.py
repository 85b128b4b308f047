"""``TcpSink``: sources to a running sidelog over its socket protocol.

It speaks the protocol in README "The socket protocol": NDJSON out, a
``{"sync": true}`` line every ``sync_every`` events and at ``flush``, so the
summary reports what the server actually committed (``stored``) or refused
(``{"error": …}`` replies), not what was merely written to a socket. Lines are
gathered and written once per loop turn (or every 256 KiB), so a burst costs a
few syscalls, and ``lines`` waits only when the server pushes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from sidelog.config import parse_endpoint
from sidelog.sources.sink import (
    DEFAULT_ADDRESS,
    MAX_EVENT_BYTES,
    SinkError,
    SourceLine,
    Summary,
    line_to_event,
)

SYNC_EVERY = 5000
"""Events between two sync lines: often enough for live counts, rare enough to cost nothing."""
_SYNC = b'{"sync": true}\n'
_WRITE_AT = 256 * 1024
"""Encoded bytes gathered before they are written at once (smaller batches go out next loop turn)."""
_MAX_OPEN_SYNCS = 8
"""Sync lines awaiting their reply before ``lines`` waits: keeps the sender near the server."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent: int = 0
    since_sync: int = 0
    errors: int = 0
    reply: dict[str, Any] = field(default_factory=dict)
    """The latest sync reply (cumulative for the connection)."""
    syncs: list[asyncio.Future[None]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    lost: bool = False


class TcpSink:
    """Sends lines to a running sidelog over TCP (``HOST:PORT``) or a Unix socket (``unix:/path``).

    With ``reconnect=False`` (imports) a lost connection is a ``SinkError``:
    importing again is safe, every line has an idempotency key. With
    ``reconnect=True`` (a wrapped dev server, which must outlive a sidelog
    restart) lines produced while disconnected are counted as lost and a new
    connection is tried at most every ``retry_s`` seconds.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        sync_every: int = SYNC_EVERY,
        max_event_bytes: int = MAX_EVENT_BYTES,
        reconnect: bool = False,
        retry_s: float = 1.0,
        timeout_s: float = 30.0,
    ) -> None:
        self.address = address
        self._target = _parse_address(address)
        self._sync_every = max(sync_every, 1)
        self._max_event_bytes = max_event_bytes
        self._reconnect = reconnect
        self._retry_s = retry_s
        self._timeout_s = timeout_s
        self._conn: _Connection | None = None
        self._done = Summary()
        """Counts of the lines handled by connections that are over."""
        self._counts = Summary()
        """Counts kept here (lines, blank, sent, lost, dialects); the server's come from replies."""
        self._buffer = bytearray()
        self._write_scheduled = False
        self._next_try = 0.0

    async def connect(self) -> None:
        """Open the connection; ``SinkError`` with a one-line reason if sidelog is not there."""
        loop = asyncio.get_running_loop()
        self._next_try = loop.time() + self._retry_s
        try:
            if isinstance(self._target, str):
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(self._target), self._timeout_s
                )
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*self._target), self._timeout_s
                )
        except (OSError, TimeoutError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise SinkError(
                f"cannot connect to {self.address}: {reason.lower()} (is sidelog running?)"
            ) from None
        conn = _Connection(reader, writer)
        token = os.environ.get("SIDELOG_TOKEN")
        if token:
            writer.write(orjson.dumps({"auth": token}) + b"\n")
        conn.task = asyncio.create_task(self._read_replies(conn), name="sidelog-sink-replies")
        self._conn = conn

    @property
    def summary(self) -> Summary:
        """The counts so far: server-confirmed ones as of the latest reply."""
        total = replace(self._counts, dialects=dict(self._counts.dialects))
        done = self._done
        total.stored = done.stored
        total.duplicates = done.duplicates
        total.rejected = done.rejected
        total.filtered = done.filtered
        total.rate_limited = done.rate_limited
        total.failed = done.failed
        total.first_error = done.first_error
        conn = self._conn
        if conn is not None:
            total.stored += int(conn.reply.get("stored", 0))
            total.duplicates += int(conn.reply.get("duplicates", 0))
            total.rejected += max(conn.errors, int(conn.reply.get("rejected", 0)))
            for name in ("filtered", "rate_limited", "failed"):
                setattr(total, name, getattr(total, name) + int(conn.reply.get(name, 0)))
        return total

    async def lines(self, batch: Sequence[SourceLine]) -> None:
        """Convert and queue a batch; waits only when the server pushes back."""
        counts = self._counts
        counts.lines += len(batch)
        conn = await self._usable()
        dialects = counts.dialects
        for line in batch:
            converted = line_to_event(
                line.text,
                stream=line.stream,
                name=line.name,
                key=line.key,
                source=line.source,
                max_bytes=self._max_event_bytes,
            )
            if converted is None:
                counts.blank += 1
                continue
            dialects[converted.dialect] = dialects.get(converted.dialect, 0) + 1
            if conn is None:
                counts.lost += 1
                continue
            self._buffer += converted.wire
            self._buffer += b"\n"
            self._count_sent(conn)
        if conn is not None:
            await self._push(conn)

    async def events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Send ready-made events as they are."""
        self._counts.events += len(events)
        conn = await self._usable()
        for event in events:
            if conn is None:
                self._counts.lost += 1
                continue
            self._buffer += orjson.dumps(event) + b"\n"
            self._count_sent(conn)
        if conn is not None:
            await self._push(conn)

    async def flush(self) -> Summary:
        """Send a sync line and wait for every reply; the confirmed counts."""
        conn = await self._usable()
        if conn is None:
            return self.summary
        if conn.since_sync or not conn.syncs:
            self._add_sync(conn)
        self._write_now(conn)
        waiting = list(conn.syncs)
        if waiting:
            try:
                await asyncio.wait_for(asyncio.gather(*waiting), self._timeout_s)
            except TimeoutError:
                raise SinkError(
                    f"no acknowledgement from {self.address} within {self._timeout_s:g} s"
                ) from None
            except SinkError:
                # Lost while waiting: fold its counts in; an import then fails with the full story.
                await self._usable()
        return self.summary

    async def close(self) -> Summary:
        """Flush, close the connection and return the final counts."""
        try:
            await self.flush()
        finally:
            conn = self._conn
            if conn is not None:
                self._retire(conn, lost=False)
                with contextlib.suppress(OSError, RuntimeError):
                    conn.writer.close()
                    await conn.writer.wait_closed()
        return self.summary

    def abort(self) -> None:
        """Drop the connection now, without waiting for the server (it may be stopping)."""
        conn = self._conn
        if conn is not None:
            self._retire(conn, lost=True)
            with contextlib.suppress(OSError, RuntimeError):
                conn.writer.transport.abort()

    # internals -----------------------------------------------------------------

    def _count_sent(self, conn: _Connection) -> None:
        self._counts.sent += 1
        conn.sent += 1
        conn.since_sync += 1
        if conn.since_sync >= self._sync_every:
            self._add_sync(conn)

    def _add_sync(self, conn: _Connection) -> None:
        self._buffer += _SYNC
        conn.since_sync = 0
        conn.syncs.append(asyncio.get_running_loop().create_future())

    async def _usable(self) -> _Connection | None:
        conn = self._conn
        if conn is not None and not conn.lost:
            return conn
        if conn is not None:
            self._retire(conn, lost=True)
        if not self._reconnect:
            if conn is None:
                raise SinkError(f"not connected to {self.address}")
            said = f" after replying {self._done.first_error!r}" if self._done.first_error else ""
            raise SinkError(
                f"lost the connection to {self.address}{said}; {self.summary.stored:,} events confirmed "
                "(importing again stores each line once)"
            )
        if asyncio.get_running_loop().time() < self._next_try:
            return None
        try:
            await self.connect()
        except SinkError:
            return None
        return self._conn

    async def _push(self, conn: _Connection) -> None:
        """Write now if enough is gathered (and wait out backpressure), else on the next loop turn."""
        if len(self._buffer) >= _WRITE_AT:
            self._write_now(conn)
            try:
                await conn.writer.drain()
            except (OSError, RuntimeError):
                conn.lost = True
                return
            if len(conn.syncs) > _MAX_OPEN_SYNCS:
                with contextlib.suppress(SinkError):
                    await conn.syncs[0]
        elif self._buffer and not self._write_scheduled:
            self._write_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_now, conn)

    def _write_now(self, conn: _Connection) -> None:
        self._write_scheduled = False
        if not self._buffer or conn is not self._conn or conn.lost:
            return
        try:
            conn.writer.write(bytes(self._buffer))
        except (OSError, RuntimeError):
            conn.lost = True
        self._buffer.clear()

    async def _read_replies(self, conn: _Connection) -> None:
        try:
            while line := await conn.reader.readline():
                try:
                    reply = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(reply, dict):
                    continue
                if "error" in reply:
                    conn.errors += 1
                    if self._done.first_error is None:
                        where = f"line {reply['line']}: " if "line" in reply else ""
                        self._done.first_error = f"{where}{reply['error']}"
                elif "ok" in reply and conn.syncs:
                    conn.reply = reply
                    future = conn.syncs.pop(0)
                    if not future.done():
                        future.set_result(None)
        except (OSError, ValueError):
            pass
        conn.lost = True
        for future in conn.syncs:
            if not future.done():
                future.set_exception(SinkError(f"lost the connection to {self.address}"))
                future.exception()  # retrieved here: nobody may be waiting on it
        conn.syncs.clear()

    def _retire(self, conn: _Connection, *, lost: bool) -> None:
        """Fold a finished connection's counts into the totals."""
        if self._conn is not conn:
            return
        self._conn = None
        if conn.task is not None:
            conn.task.cancel()
        done = self._done
        rejected = max(conn.errors, int(conn.reply.get("rejected", 0)))
        confirmed = int(conn.reply.get("stored", 0)) + rejected
        done.stored += int(conn.reply.get("stored", 0))
        done.duplicates += int(conn.reply.get("duplicates", 0))
        done.rejected += rejected
        for name in ("filtered", "rate_limited", "failed"):
            value = int(conn.reply.get(name, 0))
            confirmed += value
            setattr(done, name, getattr(done, name) + value)
        if lost:
            self._counts.lost += max(conn.sent - confirmed, 0)
            self._buffer.clear()
            with contextlib.suppress(OSError, RuntimeError):
                conn.writer.close()


def _parse_address(address: str) -> str | tuple[str, int]:
    """``unix:/path`` → the path; ``HOST:PORT`` → (host, port). ``SinkError`` otherwise."""
    if address.startswith("unix:"):
        path = address[len("unix:") :]
        if not path:
            raise SinkError(f"invalid address {address!r}: unix: needs a socket path")
        return path
    try:
        endpoint = parse_endpoint(address, default_host="127.0.0.1")
    except ValueError:
        endpoint = None
    if endpoint is None or endpoint.port == 0:
        raise SinkError(f"invalid address {address!r}: expected HOST:PORT or unix:/path")
    return endpoint.host, endpoint.port
