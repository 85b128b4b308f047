"""Listening sockets and the accept loop every endpoint shares, with the connection cap.

Every client connection costs a file descriptor, and the process's open-file limit
is shared with the database's files, the listening sockets and the UI's terminal.
asyncio's own accept loop takes up to ``backlog`` connections per wake-up before any
protocol code runs, so a flood of 2,000 idle clients can exhaust the descriptors in
one go: the next SQLite file or ``/v1/health`` request then fails. So sidelog accepts
itself (``Acceptor``), one connection at a time, and checks ``ConnectionCap`` first:

* under ``max_connections`` (README "Settings") the socket becomes an asyncio
  transport with the endpoint's protocol, and takes a slot until it closes;
* over it, a socket client gets one line ``{"error": "too many connections (cap N)"}``
  and an HTTP client a ``503`` (HTTP keeps ``HTTP_RESERVE`` more slots, so
  ``GET /v1/health`` answers while socket clients hold every slot); the socket is
  closed at once and counted in ``refused_connections``;
* when ``accept()`` itself fails for lack of descriptors (``EMFILE``/``ENFILE``: the
  limit was reached some other way) the failure is counted in ``accept_failed``,
  logged once, and accepting pauses for ``ACCEPT_RETRY_S`` instead of spinning on a
  socket that stays readable, as asyncio does in the same case.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from sidelog.errors import StartupError, startup_reason

if TYPE_CHECKING:
    from sidelog.config import Endpoint
    from sidelog.pipeline.counters import Counters

__all__ = [
    "ACCEPT_RETRY_S",
    "HTTP_RESERVE",
    "Acceptor",
    "ConnectionCap",
    "bind_sockets",
    "default_max_connections",
    "http_refusal",
    "socket_address",
    "socket_refusal",
]

log = logging.getLogger(__name__)

BACKLOG = 1024
"""Connections the kernel queues before they are accepted."""
ACCEPT_BATCH = 64
"""Connections accepted per wake-up, so a flood cannot starve the rest of the loop."""
ACCEPT_RETRY_S = 1.0
"""Pause after ``accept()`` failed for lack of resources (asyncio's own delay)."""
HTTP_RESERVE = 8
"""Slots only HTTP may use past the cap, so health and triage answer at the cap."""
TLS_HANDSHAKE_S = 10.0
"""A TLS client that has not finished its handshake by then is dropped (and frees its slot)."""
DESCRIPTOR_HEADROOM = 64
"""Descriptors kept for everything but clients when the cap is derived from the open-file
limit: SQLite keeps three per connection (database, WAL, shared memory) for the writer
and up to eight readers, plus the lock file, listening sockets, the event loop's own,
the terminal, and ``HTTP_RESERVE``."""
DEFAULT_CAP_CEILING = 10_000
"""The derived cap never exceeds this, however high the open-file limit."""
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_DRAIN_READS = 4
"""Reads (64 KiB each) of what a refused client already sent, so closing its socket sends
FIN and the refusal arrives, rather than an RST that may discard it."""


def default_max_connections(soft_limit: int | None = None) -> int:
    """The cap when ``max_connections`` is unset: the open-file limit less ``DESCRIPTOR_HEADROOM``.

    ``soft_limit`` is the limit in force (``sidelog.server.tune_process`` raises it
    first); ``None`` reads it now.
    """
    if soft_limit is None:
        soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft_limit == resource.RLIM_INFINITY or soft_limit < 0:
        return DEFAULT_CAP_CEILING
    return max(1, min(DEFAULT_CAP_CEILING, soft_limit - DESCRIPTOR_HEADROOM))


class ConnectionCap:
    """The one budget of open client connections that TCP, Unix and HTTP share."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        """Connections accepted and not yet closed, every endpoint together."""

    def has_room(self, reserve: int = 0) -> bool:
        """Whether one more connection fits (``reserve`` extra slots for HTTP)."""
        return self.open < self.limit + reserve


class _Slot:
    """One connection's place under the cap; given back exactly once."""

    __slots__ = ("_cap",)

    def __init__(self, cap: ConnectionCap) -> None:
        self._cap: ConnectionCap | None = cap
        cap.open += 1

    def release(self) -> None:
        cap = self._cap
        if cap is not None:
            self._cap = None
            cap.open -= 1


class _Counted(asyncio.Protocol):
    """Forwards every callback to the endpoint's protocol; frees the slot once the connection ends."""

    __slots__ = ("_inner", "_slot")

    def __init__(self, inner: asyncio.Protocol, slot: _Slot) -> None:
        self._inner = inner
        self._slot = slot

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._inner.connection_lost(exc)
        finally:
            self._slot.release()


def socket_refusal(cap: ConnectionCap) -> bytes:
    """The one reply line a socket client over the cap gets."""
    return orjson.dumps({"error": f"too many connections (cap {cap.limit})"}) + b"\n"


def http_refusal(cap: ConnectionCap) -> bytes:
    """The whole ``503`` answer an HTTP client over the cap (and the reserve) gets."""
    body = orjson.dumps({"error": f"too many connections (cap {cap.limit})"})
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nX-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class Acceptor:
    """Accepts on one listening socket, within the cap, handing connections to ``factory``."""

    def __init__(
        self,
        sock: socket.socket,
        factory: Callable[[], asyncio.Protocol],
        cap: ConnectionCap,
        counters: Counters,
        *,
        name: str,
        refusal: bytes,
        reserve: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._sock = sock
        self._tls = tls
        """Wraps every accepted connection in TLS (the handshake runs in ``_serve``)."""
        self._factory = factory
        self._cap = cap
        self._counters = counters
        self._name = name
        """``tcp 127.0.0.1:7411``: how the log names this endpoint."""
        self._refusal = refusal
        self._reserve = reserve
        self._loop = asyncio.get_running_loop()
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        self._starting: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Listen and accept whenever the socket is readable."""
        self._sock.setblocking(False)
        self._sock.listen(BACKLOG)
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting and close the listening socket.

        Open connections stay (shutdown drains and closes them); one accepted but not
        yet handed to its protocol is closed once it is, so none lives on past shutdown.
        """
        if self._closed:
            return
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    def _accept(self) -> None:
        if self._closed:
            return  # a wake-up that was already queued when ``close`` ran
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while queued
            except OSError as exc:
                self._pause(exc)
                return
            if not self._cap.has_room(self._reserve):
                self._counters.refused_connections += 1
                _refuse(conn, self._refusal)
                continue
            slot = _Slot(self._cap)
            task = self._loop.create_task(self._serve(conn, slot))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _serve(self, conn: socket.socket, slot: _Slot) -> None:
        try:
            protocol = _Counted(self._factory(), slot)
            transport, _ = await self._loop.connect_accepted_socket(
                lambda: protocol,
                conn,
                ssl=self._tls,
                ssl_handshake_timeout=TLS_HANDSHAKE_S if self._tls is not None else None,
            )
            if self._closed:
                transport.close()  # shutdown began while it was being set up
        except BaseException as exc:
            # The peer left before its transport existed (or shutdown cancelled us).
            slot.release()
            conn.close()
            if not isinstance(exc, Exception):
                raise

    def _pause(self, exc: OSError) -> None:
        """Out of descriptors (or another lasting failure): stop accepting for a while.

        The listening socket stays readable while connections wait, so retrying at
        once would spin; the queued clients wait in the kernel's backlog meanwhile.
        """
        if exc.errno in _RESOURCE_ERRNOS:
            self._counters.accept_failed += 1
        log.warning(
            "cannot accept on %s: %s (%d connections open, cap %d); retrying in %.0f s",
            self._name,
            startup_reason(exc),
            self._cap.open,
            self._cap.limit,
            ACCEPT_RETRY_S,
        )
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._sock.fileno())
        self._retry = self._loop.call_later(ACCEPT_RETRY_S, self._resume)

    def _resume(self) -> None:
        self._retry = None
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept)


def _refuse(conn: socket.socket, reply: bytes) -> None:
    """Send ``reply`` and close at once: a refused client must not keep a descriptor."""
    try:
        conn.setblocking(False)
        conn.send(reply)
        for _ in range(_DRAIN_READS):
            if not conn.recv(65536):
                break
    except OSError:
        pass  # nothing more to read, or the client already left
    finally:
        conn.close()


async def bind_sockets(kind: str, endpoint: Endpoint) -> list[socket.socket]:
    """Create and bind the listening sockets for ``endpoint`` (one per resolved address).

    Done here rather than by ``loop.create_server(host, port)`` because asyncio skips
    an address whose ``socket()`` call fails, taking it for an unsupported family:
    out of file descriptors (a connection flood during start-up) it returns a server
    listening nowhere. Here every failure is a ``StartupError`` naming the reason.
    """
    where = f"cannot listen on {kind} {endpoint}"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            endpoint.host, endpoint.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise StartupError(f"{where}: {startup_reason(exc)}") from None
    seen: set[tuple[int, Any]] = set()
    sockets: list[socket.socket] = []
    try:
        for family, kind_, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind_, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # As asyncio does: IPv4 addresses get their own socket, never a mapped one.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise StartupError(f"{where}: {startup_reason(exc)}") from None
    if not sockets:
        raise StartupError(f"{where}: the name resolves to no address")
    return sockets


def socket_address(sock: socket.socket) -> str:
    """``host:port`` (``[v6]:port``) a bound socket listens on, with the real port."""
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
