"""TCP and Unix-socket ingest: moves bytes between sockets and an ``IngestSink``, nothing more.

Each connection is an ``asyncio.Protocol`` (no per-line awaits) feeding a
``LineDecoder``. When the sink's queue is full the connection pauses reading, so
the kernel's TCP window pushes back on the sender; it resumes when the writer has
drained half the queue. Replies (rejections, sync acknowledgements) are written
only while the client keeps its receive buffer drained: a client that never reads
loses replies, never events.

Connections are accepted by ``sidelog.ingest.accept`` within the connection cap
shared with HTTP (``max_connections``): over it, a client gets one error line and
is closed before any of this module's code runs for it.

The sink is typed as the protocol in ``sidelog.ingest.sink``: this module never
imports the engine. ``sidelog.server`` binds these endpoints onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sidelog.config import Endpoint, is_loopback_host
from sidelog.errors import StartupError, startup_reason
from sidelog.events import Event
from sidelog.ingest.accept import (
    Acceptor,
    ConnectionCap,
    bind_sockets,
    default_max_connections,
    socket_address,
    socket_refusal,
)
from sidelog.ingest.protocol import AuthLine, HttpSighting, LineDecoder, Rejection, SyncRequest
from sidelog.ingest.tokens import TokenTable, stamp_client
from sidelog.pipeline.queue import Origin

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.ingest.sink import IngestSink

__all__ = [
    "IngestConnection",
    "SocketListener",
    "StartupError",
    "bind_sockets",
    "start_socket_servers",
    "start_tcp_server",
    "start_unix_server",
    "startup_reason",
]

TEXT_IDLE_S = 0.5
"""A plain-text block (a stack trace) still open after this long without a line is stored."""
_REPLY_BUFFER_LIMIT = 256 * 1024
"""Stop writing replies once this many bytes are waiting for the client to read."""
_FORCED_REPLY_LIMIT = 4 * 1024 * 1024
"""Sync acknowledgements get more room, but not unbounded: a client that floods sync
lines and never reads must not grow the server's memory."""


class IngestConnection(asyncio.Protocol):
    """One socket client speaking newline-delimited JSON."""

    def __init__(
        self,
        sink: IngestSink,
        kind: str,
        auth: bool,
        token: str | None = None,
        tokens: TokenTable | None = None,
    ) -> None:
        self._sink = sink
        self._kind = kind
        self._require_auth = auth
        self._tokens = tokens if tokens is not None else TokenTable(token)
        """What an ``{"auth": …}`` line may match (shared or named); empty refuses all."""
        self._client: str | None = None
        """The name of a named token it sent: its events carry ``details.client``."""
        self._decoder = LineDecoder(
            default_source="server", limits=sink.limits, dialect_counts=sink.counters.dialects
        )
        self._text_timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._origin = Origin(kind)
        self._paused = False
        self._closing = False
        self._pending_syncs = 0
        self._eof = False

    # asyncio.Protocol callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Label the origin by peer; loopback and Unix-socket peers need no token."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if self._kind == "tcp" and isinstance(peer, tuple):
            self._origin.label = f"tcp {peer[0]}:{peer[1]}"
            if self._require_auth and is_loopback_host(str(peer[0])):
                self._require_auth = False
        else:
            self._require_auth = False
        self._sink.track_connection(self, opened=True)

    def data_received(self, data: bytes) -> None:
        """Decode and admit whole lines; stop reading while the queue is full (backpressure)."""
        if self._closing:
            return
        self._handle(self._decoder.feed(data))
        if self._decoder.holds_text and self._text_timer is None:
            self._text_timer = asyncio.get_running_loop().call_later(TEXT_IDLE_S, self._flush_text)
        sink = self._sink
        if sink.queue_full and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
            sink.when_room(self._resume)

    def eof_received(self) -> bool:
        """The client finished sending: admit a final unterminated line."""
        self._eof = True
        if not self._closing:
            self._handle(self._decoder.finish())
        # False lets asyncio close the transport; True keeps it open for writing until
        # the pending sync replies are sent.
        return self._pending_syncs != 0

    def connection_lost(self, exc: Exception | None) -> None:
        """Count the connection out (after admitting a final line the peer reset on)."""
        if not self._closing and not self._eof:
            # Reset without EOF: a final line still counts (stored if whole, else rejected).
            self._handle(self._decoder.finish())
        self._closing = True
        if self._text_timer is not None:
            self._text_timer.cancel()
            self._text_timer = None
        self._sink.track_connection(self, opened=False)

    # shutdown-facing (sidelog.ingest.sink.Connection) ----------------------------------

    def close(self) -> None:
        """Close the connection (server shutdown)."""
        self._closing = True
        if self._text_timer is not None:
            self._text_timer.cancel()
        if self._transport is not None:
            self._transport.close()

    def stop_reading(self) -> None:
        """Shutdown: read nothing more, but keep the socket open for pending sync replies."""
        self._closing = True
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def _flush_text(self) -> None:
        """A text block (a stack trace) ends when no line came for ``TEXT_IDLE_S``."""
        self._text_timer = None
        if self._closing:
            return
        self._handle(self._decoder.flush_text(idle_s=TEXT_IDLE_S))
        if self._decoder.holds_text:
            self._text_timer = asyncio.get_running_loop().call_later(TEXT_IDLE_S, self._flush_text)

    def _resume(self) -> None:
        self._paused = False
        if self._transport is not None and not self._closing and not self._transport.is_closing():
            self._transport.resume_reading()

    def _handle(self, items: list[Any]) -> None:
        if not items:
            return
        sink = self._sink
        events: list[Event] = []
        for item in items:
            if isinstance(item, Event):
                if self._require_auth:
                    self._refuse_auth()
                    return
                events.append(item)
                continue
            if isinstance(item, HttpSighting):
                # A browser (or anything speaking HTTP) must not write through this
                # port: drop everything from this read and hang up.
                sink.counters.http_refused += 1
                sink.counters.refusals.add(self._origin.label, "spoke HTTP on the socket port: closed")
                self.close()
                return
            if isinstance(item, AuthLine):
                if events:
                    self._admit(events)
                    events = []
                identity = self._tokens.match(item.token)
                if identity is None:
                    if not self._require_auth:
                        continue  # loopback/Unix: a client with SIDELOG_TOKEN set still talks
                    self._refuse_auth()
                    return
                if identity.read_only:
                    self._refuse_auth(f"the token of {identity.name!r} is read-only: it cannot send events")
                    return
                self._require_auth = False
                self._client = identity.name
                continue
            if events:
                self._admit(events)
                events = []
            if isinstance(item, Rejection):
                sink.reject(1, self._origin)
                sink.counters.refusals.add(self._origin.label, f"line {item.line}: {item.reason}")
                self._reply(item.to_reply())
            elif isinstance(item, SyncRequest):
                if self._require_auth:
                    self._refuse_auth()
                    return
                self._pending_syncs += 1
                sink.request_sync(self._origin, self._synced)
        if events:
            self._admit(events)

    def _admit(self, events: list[Event]) -> None:
        if self._client is not None:
            stamp_client(events, self._client)
        self._sink.admit(events, self._origin)

    def _refuse_auth(self, reason: str = 'authentication required: send {"auth": "<token>"} first') -> None:
        self._sink.counters.auth_failed += 1
        self._reply({"error": reason, "line": 1}, force=True)
        self.close()

    def _synced(self, origin: Origin) -> None:
        self._pending_syncs -= 1
        reply: dict[str, Any] = {
            "ok": origin.failed == 0,
            "stored": origin.stored + origin.duplicates,
        }
        for name in ("duplicates", "rejected", "filtered", "rate_limited", "failed"):
            value = getattr(origin, name)
            if value:
                reply[name] = value
        self._reply(reply, force=True)
        if self._eof and self._pending_syncs == 0 and self._transport is not None:
            self._transport.close()

    def _reply(self, obj: dict[str, Any], force: bool = False) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > (_FORCED_REPLY_LIMIT if force else _REPLY_BUFFER_LIMIT):
            self._sink.counters.replies_dropped += 1
            return
        transport.write(orjson.dumps(obj) + b"\n")


class SocketListener:
    """A bound TCP or Unix endpoint (a ``sidelog.ingest.sink.Listener``)."""

    def __init__(self, kind: str, address: str, acceptors: list[Acceptor], path: Path | None = None) -> None:
        self.kind = kind
        self.address = address
        self._acceptors = acceptors
        self._path = path
        """A Unix socket file to remove once no longer accepting."""

    async def close(self) -> None:
        """Stop accepting; remove the Unix socket file so the next start finds no stale one."""
        for acceptor in self._acceptors:
            acceptor.close()
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()

    async def wait_closed(self) -> None:
        """Nothing left to wait for: ``close`` already released the listening sockets."""


async def start_socket_servers(
    sink: IngestSink,
    settings: Settings,
    *,
    token: str | None,
    tokens: TokenTable | None = None,
    cap: ConnectionCap | None = None,
) -> list[SocketListener]:
    """Bind the TCP and Unix endpoints ``settings`` name; all or none (``StartupError``).

    ``token`` is what remote TCP clients must send first (``tokens``, when given, all
    the accepted ones); loopback and Unix clients never need one. ``cap`` is the
    connection budget shared with HTTP (``sidelog.server`` makes it); without one, a
    cap of their own from ``max_connections`` or the open-file limit.
    """
    if cap is None:
        cap = ConnectionCap(settings.max_connections or default_max_connections())
    listeners: list[SocketListener] = []
    try:
        if settings.tcp_endpoint is not None:
            listeners.append(
                await start_tcp_server(sink, settings.tcp_endpoint, token=token, tokens=tokens, cap=cap)
            )
        if settings.unix is not None:
            listeners.append(await start_unix_server(sink, settings.unix, tokens=tokens, cap=cap))
    except BaseException:
        for listener in listeners:
            await listener.close()
        raise
    return listeners


async def start_tcp_server(
    sink: IngestSink,
    endpoint: Endpoint,
    *,
    token: str | None,
    tokens: TokenTable | None = None,
    cap: ConnectionCap | None = None,
) -> SocketListener:
    """Listen for NDJSON on ``endpoint``; a non-loopback bind makes clients authenticate."""
    require_auth = not endpoint.is_loopback
    table = tokens if tokens is not None else TokenTable(token)
    cap = cap or ConnectionCap(default_max_connections())
    sockets = await bind_sockets("tcp", endpoint)
    address = socket_address(sockets[0])
    acceptors: list[Acceptor] = []
    try:
        for sock in sockets:
            acceptor = Acceptor(
                sock,
                lambda: IngestConnection(sink, "tcp", require_auth, tokens=table),
                cap,
                sink.counters,
                name=f"tcp {address}",
                refusal=socket_refusal(cap),
            )
            acceptor.start()
            acceptors.append(acceptor)
    except OSError as exc:
        for acceptor in acceptors:
            acceptor.close()
        for sock in sockets:
            sock.close()
        raise StartupError(f"cannot listen on tcp {endpoint}: {startup_reason(exc)}") from None
    return SocketListener("tcp", address, acceptors)


async def start_unix_server(
    sink: IngestSink, path: Path, *, tokens: TokenTable | None = None, cap: ConnectionCap | None = None
) -> SocketListener:
    """Listen on a Unix socket created with mode 0600 (never stealing a live server's path)."""
    await _claim_unix_path(path)
    cap = cap or ConnectionCap(default_max_connections())
    sock: socket.socket | None = None
    old_umask = os.umask(0o177)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o600)
        acceptor = Acceptor(
            sock,
            lambda: IngestConnection(sink, "unix", False, tokens=tokens),
            cap,
            sink.counters,
            name=f"unix {path}",
            refusal=socket_refusal(cap),
        )
        acceptor.start()
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise StartupError(f"cannot listen on unix {path}: {startup_reason(exc)}") from None
    finally:
        os.umask(old_umask)
    return SocketListener("unix", str(path), [acceptor], path)


async def _claim_unix_path(path: Path) -> None:
    """Refuse a path a live server owns; remove a stale socket file left by a crash."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise StartupError(f"cannot listen on unix {path}: the path exists and is not a socket")
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 1.0)
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    except (OSError, TimeoutError) as exc:
        raise StartupError(f"cannot listen on unix {path}: {startup_reason(exc)}") from None
    writer.close()
    raise StartupError(f"cannot listen on unix {path}: a running server already owns it")
