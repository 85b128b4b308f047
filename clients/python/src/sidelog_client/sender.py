"""The client's background thread: batch, send, await acknowledgements, resend.

The app's threads only append tuples to ``ingress`` (a ``deque`` with a ``maxlen``,
so a flood cannot grow memory: the oldest entry falls out). This thread moves them
into its ``Outbox`` (``outbox.py``: the bookkeeping of what is unsent, unacknowledged
or dropped), and when a batch is due (size, interval, ``flush`` or close) writes it
as NDJSON lines followed by ``{"sync": true}``. The server answers each sync once
everything before it is committed; only then are those events forgotten. If the
connection breaks first, everything unacknowledged is sent again after reconnecting
(with exponential backoff). Every event carries a unique wire ``id``, so the server
stores a resent event once even if the first copy had arrived. The socket is
non-blocking and driven by a selector, so a hung server stalls nothing but this thread.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from sidelog_client.config import Address
from sidelog_client.outbox import Outbox

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SYNC = b'{"sync":true}\n'
_WRITE_BUFFER_LIMIT = 512 * 1024
"""Stop encoding more batches while this much is still waiting to be written."""


class SenderStats:
    """Counters the sender keeps (read from other threads without locking)."""

    def __init__(self) -> None:
        self.sent = 0
        self.rejected = 0
        self.connects = 0
        self.connect_failures = 0
        self.last_error: str | None = None
        self.last_ack: dict[str, Any] | None = None
        """The latest sync reply: counts for the current connection (stored, rate_limited, …)."""


class Sender:
    """Owns the connection to sidelog; all its state lives on its own thread."""

    def __init__(
        self,
        ingress: deque[tuple[Any, ...]],
        address: Address,
        *,
        source: str,
        min_level: str,
        batch_size: int,
        interval_s: float,
        buffer_size: int,
        immediate: bool,
        token: str | None,
        reconnect_min_s: float,
        reconnect_max_s: float,
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.stats = SenderStats()
        self.outbox = Outbox(buffer_size, min_level)
        self._ingress = ingress
        self._address = address
        self._source = source
        self._batch_size = batch_size
        self._interval = interval_s
        self._tick = max(0.001, min(interval_s, 0.05))
        self._immediate = immediate
        self._token = token
        self._reconnect_min = reconnect_min_s
        self._reconnect_max = reconnect_max_s
        self._connect_timeout = connect_timeout_s
        self._prefix = os.urandom(8).hex()
        self._sock: socket.socket | None = None
        self._wbuf = bytearray()
        self._rbuf = b""
        self._backoff = reconnect_min_s
        self._next_attempt = 0.0
        self._stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="sidelog-sender", daemon=True)
        self._encode: Callable[[tuple[Any, ...], str, str], bytes]
        self._loads: Callable[[bytes], Any]
        self._dump_line: Callable[[Any], bytes]

    # ------------------------------------------------------------ app-thread side

    def start(self) -> None:
        """Start the background thread."""
        self._thread.start()

    def wake(self) -> None:
        """Make the thread look at its queue now (never blocks: a full pipe is already a wake-up)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def stop(self, timeout: float) -> None:
        """Ask the thread to end and wait up to ``timeout`` seconds for it."""
        self._stopping = True
        self.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def abandon(self) -> None:
        """In a forked child: close the inherited sockets; the thread did not survive the fork."""
        for sock in (self._sock, self._wake_r, self._wake_w):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._sock = None
        with contextlib.suppress(OSError):
            self._selector.close()

    @property
    def buffered(self) -> int:
        """Events not yet acknowledged by sidelog (approximate while the thread runs)."""
        return len(self._ingress) + len(self.outbox)

    @property
    def connected(self) -> bool:
        """Whether a connection to sidelog is open right now."""
        return self._sock is not None

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        # Imported here, on this thread, so importing the client never pays for a JSON library.
        from sidelog_client.encode import encode_line
        from sidelog_client.jsonlib import dumps, loads

        self._encode = encode_line
        self._loads = loads
        self._dump_line = dumps
        try:
            while not self._stopping:
                try:
                    self._step()
                except Exception as exc:  # a bug here must never take the app down
                    self.stats.last_error = f"internal error: {type(exc).__name__}: {exc}"
                    self._disconnect()
                    time.sleep(self._reconnect_min)
        finally:
            self._disconnect(reschedule=False)
            self.outbox.release_tickets()
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _step(self) -> None:
        outbox = self.outbox
        timeout = self._tick
        if self._ingress:
            timeout = 0 if len(self._ingress) >= 1000 else timeout
        if self._sock is None and (outbox.unsent or outbox.tickets):
            timeout = max(0.0, min(timeout, self._next_attempt - time.monotonic()))
        sock = self._sock
        if sock is not None:
            self._selector.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if self._wbuf else 0))
        for key, mask in self._selector.select(timeout):
            if key.fileobj is self._wake_r:
                with contextlib.suppress(OSError):
                    while self._wake_r.recv(4096):
                        pass
            elif self._sock is not None:
                if mask & selectors.EVENT_READ:
                    self._read()
                if mask & selectors.EVENT_WRITE and self._sock is not None:
                    self._write()
        if outbox.take(self._ingress, self.stats.connect_failures):
            self._next_attempt = 0.0  # a flush reconnects now, not after the backoff
        if self._sock is not None:
            outbox.queue_drop_report(throttle=True)
        if outbox.due(self._batch_size, self._interval, self._stopping or self._immediate) and (
            self._sock is not None or self._connect()
        ):
            self._fill_write_buffer()
            if self._wbuf:
                self._write()
        outbox.settle(self.stats.connect_failures)

    def _fill_write_buffer(self) -> None:
        wbuf, outbox, encode = self._wbuf, self.outbox, self._encode
        prefix, source = self._prefix, self._source
        while outbox.unsent and len(wbuf) < _WRITE_BUFFER_LIMIT:
            start, batch = outbox.next_batch(self._batch_size)
            for n, item in enumerate(batch, start):
                wbuf += encode(item, f"{prefix}-{n:x}", source)
            wbuf += _SYNC
            self.stats.sent += len(batch)

    def _write(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            written = sock.send(self._wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.stats.last_error = f"send failed: {exc}"
            self._disconnect()
            return
        del self._wbuf[:written]

    def _read(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.stats.last_error = f"connection lost: {exc}"
            self._disconnect()
            return
        if not data:
            self.stats.last_error = "sidelog closed the connection"
            self._disconnect()
            return
        *lines, self._rbuf = (self._rbuf + data).split(b"\n")
        for line in lines:
            try:
                reply = self._loads(line)
            except ValueError:  # orjson's and json's JSONDecodeError (and UnicodeDecodeError) are ValueErrors
                continue
            if not isinstance(reply, dict):
                continue
            if "ok" in reply:
                self.stats.last_ack = reply
                self.outbox.acknowledge(reply.get("ok") is True)
                self._backoff = self._reconnect_min
            elif "error" in reply:
                self.stats.rejected += 1
                self.stats.last_error = f"sidelog rejected an event: {reply['error']}"

    # ------------------------------------------------------------ connection

    def _connect(self) -> bool:
        """Open the connection if the backoff allows; ``False`` if not connected now."""
        if time.monotonic() < self._next_attempt:
            return False
        address = self._address
        try:
            if address.unix_path is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self._connect_timeout)
                    sock.connect(address.unix_path)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((address.host, address.port), timeout=self._connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            self.stats.last_error = f"cannot connect to {address}: {exc.strerror or exc}"
            self.stats.connect_failures += 1
            self._schedule_retry()
            return False
        sock.setblocking(False)
        self._sock = sock
        self._rbuf = b""
        self._wbuf.clear()
        if self._token:
            self._wbuf += self._dump_line({"auth": self._token})
        self._selector.register(sock, selectors.EVENT_READ)
        self.stats.connects += 1
        self.outbox.queue_drop_report(throttle=False)
        return True

    def _schedule_retry(self) -> None:
        delay = self._reconnect_min if self.outbox.tickets else self._backoff
        self._next_attempt = time.monotonic() + delay * (0.5 + int.from_bytes(os.urandom(2), "big") / 131072)
        self._backoff = min(self._backoff * 2, self._reconnect_max)

    def _disconnect(self, reschedule: bool = True) -> None:
        sock = self._sock
        if sock is None:
            return
        self._sock = None
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        with contextlib.suppress(OSError):
            sock.close()
        self._wbuf.clear()
        self.outbox.requeue()
        if reschedule:
            self._schedule_retry()
