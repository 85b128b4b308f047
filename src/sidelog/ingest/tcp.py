"""TCP and Unix-socket ingest: moves bytes between sockets and the engine, nothing more.

Each connection is an ``asyncio.Protocol`` (no per-line awaits) feeding a
``LineDecoder``. When the engine's queue is full the connection pauses reading, so
the kernel's TCP window pushes back on the sender; it resumes when the writer has
drained half the queue. Replies (rejections, sync acknowledgements) are written
only while the client keeps its receive buffer drained: a client that never reads
loses replies, never events.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import os
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sidelog.config import is_loopback_host
from sidelog.events import Event
from sidelog.ingest.protocol import AuthLine, HttpSighting, LineDecoder, Rejection, SyncRequest
from sidelog.pipeline.queue import Origin

if TYPE_CHECKING:
    from sidelog.engine import Engine

_REPLY_BUFFER_LIMIT = 256 * 1024
"""Stop writing replies once this many bytes are waiting for the client to read."""
_FORCED_REPLY_LIMIT = 4 * 1024 * 1024
"""Sync acknowledgements get more room, but not unbounded: a client that floods sync
lines and never reads must not grow the server's memory."""


class StartupError(RuntimeError):
    """An endpoint could not be opened; the message is the one line to show."""


class IngestConnection(asyncio.Protocol):
    """One socket client speaking newline-delimited JSON."""

    def __init__(self, engine: Engine, kind: str, require_auth: bool) -> None:
        self._engine = engine
        self._kind = kind
        self._require_auth = require_auth
        self._decoder = LineDecoder(default_source="server", limits=engine.settings.limits)
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
        self._engine.track_connection(self, opened=True)

    def data_received(self, data: bytes) -> None:
        """Decode and admit whole lines; stop reading while the queue is full (backpressure)."""
        if self._closing:
            return
        self._handle(self._decoder.feed(data))
        queue = self._engine.queue
        if queue.full and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
            queue.when_space(self._resume)

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
        self._engine.track_connection(self, opened=False)

    # engine-facing ----------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (server shutdown)."""
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def stop_reading(self) -> None:
        """Shutdown: read nothing more, but keep the socket open for pending sync replies."""
        self._closing = True
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def _resume(self) -> None:
        self._paused = False
        if self._transport is not None and not self._closing and not self._transport.is_closing():
            self._transport.resume_reading()

    def _handle(self, items: list[Any]) -> None:
        if not items:
            return
        engine = self._engine
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
                engine.counters.http_refused += 1
                self.close()
                return
            if isinstance(item, AuthLine):
                if not self._require_auth:
                    # Loopback and Unix clients need no token; a client configured with
                    # one (SIDELOG_TOKEN) must still be able to talk to a local sidelog.
                    continue
                token = engine.token or ""
                if token and hmac.compare_digest(item.token.encode(), token.encode()):
                    self._require_auth = False
                else:
                    self._refuse_auth()
                    return
                continue
            if events:
                engine.admit(events, self._origin)
                events = []
            if isinstance(item, Rejection):
                engine.reject(1, self._origin)
                self._reply(item.to_reply())
            elif isinstance(item, SyncRequest):
                if self._require_auth:
                    self._refuse_auth()
                    return
                self._pending_syncs += 1
                engine.request_sync(self._origin, self._synced)
        if events:
            engine.admit(events, self._origin)

    def _refuse_auth(self) -> None:
        self._engine.counters.auth_failed += 1
        self._reply(
            {"error": 'authentication required: send {"auth": "<token>"} first', "line": 1},
            force=True,
        )
        self.close()

    def _synced(self, origin: Origin) -> None:
        self._pending_syncs -= 1
        reply: dict[str, Any] = {
            "ok": origin.failed == 0,
            "stored": origin.stored + origin.duplicates,
        }
        for name in ("rejected", "filtered", "rate_limited", "failed"):
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
            self._engine.counters.replies_dropped += 1
            return
        transport.write(orjson.dumps(obj) + b"\n")


async def start_socket_servers(engine: Engine) -> None:
    """Bind the TCP and Unix endpoints named by the engine's settings."""
    settings = engine.settings
    loop = asyncio.get_running_loop()
    endpoint = settings.tcp_endpoint
    if endpoint is not None:
        require_auth = not endpoint.is_loopback
        try:
            server = await loop.create_server(
                lambda: IngestConnection(engine, "tcp", require_auth),
                host=endpoint.host,
                port=endpoint.port,
                reuse_address=True,
                backlog=1024,
            )
        except OSError as exc:
            raise StartupError(f"cannot listen on tcp {endpoint}: {startup_reason(exc)}") from None
        for sock in server.sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                host, port = sock.getsockname()[:2]
                address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                engine.add_server("tcp", address, server)
                break
    if settings.unix is not None:
        path = settings.unix
        await _claim_unix_path(path)
        old_umask = os.umask(0o177)
        try:
            server = await loop.create_unix_server(
                lambda: IngestConnection(engine, "unix", False), path=str(path), backlog=1024
            )
        except OSError as exc:
            raise StartupError(f"cannot listen on unix {path}: {startup_reason(exc)}") from None
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)

        async def remove_socket() -> None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

        engine.add_server("unix", str(path), server, remove_socket)


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


def startup_reason(exc: BaseException) -> str:
    """Why an endpoint could not be opened, as the tail of a one-line ``StartupError``."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "address already in use (is another sidelog running?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
