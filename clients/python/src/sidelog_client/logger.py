"""``EventLogger``: the client logger for Python apps (README, "Client libraries").

A call costs well under a microsecond because it only appends a tuple to a bounded
``deque`` (thread-safe without a lock) after one flag check: no dict, no clock but
one ``time.time()``, no serialisation, no wake-up. A daemon thread (``sender.py``)
does everything else. Nothing here raises into the app or blocks it: a full buffer
drops its oldest entry (counted and reported), a dead socket only delays delivery.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from sidelog_client.config import LEVEL_ALIASES, LEVELS, ClientConfig, load_client_config, parse_address
from sidelog_client.outbox import FlushTicket
from sidelog_client.sender import Sender
from sidelog_client.shortcuts import EventShortcuts

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing itself costs more to import than this whole client
    from typing import Any

    from sidelog_client.capture import ExceptionInfo

_time = time.time
_EVENT_FIELDS = ("details", "user_id", "session_id", "url", "show_to_user", "user_message", "source")

_open_loggers: set[EventLogger] = set()
_hooks_installed = False
_hooks_lock = threading.Lock()


class EventLogger(EventShortcuts):
    """Sends structured events to sidelog from any thread, without ever slowing the app.

    ``address`` is ``HOST:PORT`` or ``unix:/path`` (default ``SIDELOG_ADDRESS``, else
    ``127.0.0.1:7411``); ``source`` is the wire ``source`` of every event. Other
    arguments override what the environment says (``ENABLE_*``, ``LOG_LEVEL``,
    ``BATCH_*``: see ``sidelog_client.config``). Events are sent in batches by a
    background thread; ``flush()`` waits for sidelog's acknowledgement, and whatever is
    still buffered is flushed at interpreter exit (for at most ``exit_timeout`` seconds).

    Only the constructor can raise (``ValueError`` for a bad ``address`` or ``level``
    argument; bad environment values are reported on stderr and ignored). The logging
    calls never raise and never block.
    """

    def __init__(
        self,
        address: str | None = None,
        source: str = "server",
        *,
        enabled: bool | None = None,
        level: str | None = None,
        batch_size: int | None = None,
        batch_interval_ms: int | None = None,
        buffer_size: int | None = None,
        token: str | None = None,
        exit_timeout: float = 2.0,
        reconnect_min_s: float = 0.05,
        reconnect_max_s: float = 2.0,
        config: ClientConfig | None = None,
    ) -> None:
        cfg = load_client_config() if config is None else config
        target = cfg.address if address is None else parse_address(address)
        min_level = cfg.log_level if level is None else LEVEL_ALIASES.get(level.strip().lower())
        if min_level is None:
            raise ValueError(f"level {level!r} is not one of debug, info, warn, error")
        on = cfg.enabled_for(source) if enabled is None else enabled
        self.source = source
        """The wire ``source`` of this logger's events."""
        self.address = target
        """Where events go (``None``: nowhere, every call is a no-op)."""
        self.exit_timeout = exit_timeout
        self.slow_request_ms = cfg.slow_request_ms
        """Default threshold for the request middleware's slow-request warnings."""
        self._on = bool(on and target is not None)
        rank = LEVELS.index(min_level)
        self._blocked = frozenset(
            spelling
            for alias, name in LEVEL_ALIASES.items()
            if LEVELS.index(name) < rank
            for spelling in (alias, alias.upper(), alias.capitalize())
        )
        self._closed = False
        self._min_level = min_level
        self._batch_size = batch_size or cfg.max_events_per_batch
        self._interval_s = (cfg.batch_interval_ms if batch_interval_ms is None else batch_interval_ms) / 1000
        self._buffer_size = buffer_size or cfg.buffer_size
        self._token = token or cfg.token
        self._reconnect = (reconnect_min_s, reconnect_max_s)
        self._immediate = not cfg.batch_events
        self._sender: Sender | None = None
        self._append: Callable[[tuple[Any, ...]], None] = _discard
        self._next: Callable[[], int] = itertools.count().__next__
        self._wake: Callable[[], None] = _nothing
        if self._on:
            self._start_sender()
            _track(self)

    def _start_sender(self) -> None:
        assert self.address is not None
        ingress: deque[tuple[Any, ...]] = deque(maxlen=self._buffer_size)
        self._append = ingress.append
        self._next = itertools.count().__next__
        self._sender = Sender(
            ingress,
            self.address,
            source=self.source,
            min_level=self._min_level,
            batch_size=self._batch_size,
            interval_s=self._interval_s,
            buffer_size=self._buffer_size,
            immediate=self._immediate,
            token=self._token,
            reconnect_min_s=self._reconnect[0],
            reconnect_max_s=self._reconnect[1],
        )
        self._wake = self._sender.wake
        self._sender.start()

    # ----------------------------------------------------------------- the hot path

    def event(
        self,
        message: str,
        *,
        category: str = "general",
        level: str = "info",
        details: Any = None,
        user_id: str | None = None,
        session_id: str | None = None,
        url: str | None = None,
        show_to_user: bool | None = None,
        user_message: str | None = None,
        source: str | None = None,
        **extra: Any,
    ) -> None:
        """Log one event (``logEvent`` in sidelog.js). Only enqueues; returns in about a microsecond.

        ``level`` is debug, info, warn or error (aliases such as ``warning`` work);
        keyword arguments beyond the event fields are kept inside ``details``.
        """
        try:
            if not self._on or level in self._blocked:
                return
        except TypeError:  # an unhashable level: never raise; the sender sends it as info
            pass
        self._append(
            (
                self._next(),
                _time(),
                message,
                category,
                level,
                details,
                user_id,
                session_id,
                url,
                show_to_user,
                user_message,
                source,
                extra or None,  # an empty dict would keep the tuple tracked by the GC forever
                None,
            )
        )
        if self._immediate:
            self._wake()

    # ----------------------------------------------------------------- the other calls

    def error(self, exc: BaseException | str, **context: Any) -> None:
        """Log an error (``logError`` in sidelog.js), with type, message and stack in ``details.exception``.

        ``context`` may set any event field (``category`` defaults to ``"error"``,
        ``level`` to ``"error"``, ``message`` to ``"Type: text"``); everything else is
        kept in ``details``. sidelog groups errors by type and top frame.
        """
        if not self._on:
            return
        try:
            level = context.pop("level", "error")
            if level in self._blocked:
                return
            if isinstance(exc, BaseException):
                from sidelog_client.capture import ExceptionInfo  # traceback, on the first error only

                info: ExceptionInfo | None = ExceptionInfo.capture(exc, skip=1)
                assert info is not None
                default = f"{type(exc).__name__}: {info.message}" if info.message else type(exc).__name__
            else:
                info, default = None, exc
            message = context.pop("message", default)
            category = context.pop("category", "error")
            fields = [context.pop(name, None) for name in _EVENT_FIELDS]
            details, user_id, session_id, url, show, user_message, source = fields
            self._append(
                (
                    self._next(),
                    _time(),
                    message,
                    category,
                    level,
                    details,
                    user_id,
                    session_id,
                    url,
                    show,
                    user_message,
                    source,
                    context or None,
                    info,
                )
            )
            self._wake()
        except Exception:  # never into the app, whatever the exception's __str__ does
            return

    def user_action(self, action: str, **details: Any) -> None:
        """Log what the user did (``logUserAction`` in sidelog.js): category ``ui``, level info."""
        if not self._on:
            return
        fields = {name: details.pop(name) for name in ("user_id", "session_id", "url") if name in details}
        self.event(action, category="ui", details=details or None, **fields)

    def flush(self, timeout: float = 5.0) -> bool:
        """Send everything logged so far and wait for sidelog's acknowledgement.

        Returns ``True`` once sidelog has committed (or deliberately filtered) every
        event still buffered when ``flush`` was called; ``False`` on timeout, on a
        server write failure, or if one of them had to be dropped while waiting.
        Reconnects at once if needed. Safe from any thread except the sender's.
        """
        return self._flush(timeout, fail_fast=False)

    def _flush(self, timeout: float, fail_fast: bool) -> bool:
        sender = self._sender
        if sender is None:
            return True
        if self._closed:
            return sender.buffered == 0
        ticket = FlushTicket(fail_fast=fail_fast)
        self._append((self._next(), None, ticket))
        sender.wake()
        return ticket.done.wait(timeout) and ticket.ok

    def close(self, timeout: float = 5.0) -> bool:
        """Flush (up to ``timeout`` seconds), then stop the sender. Later calls are no-ops.

        Returns whether everything was delivered.
        """
        return self._close(timeout, fail_fast=False)

    def _close(self, timeout: float, fail_fast: bool) -> bool:
        if self._closed:
            return self._sender is None or self._sender.buffered == 0
        delivered = self._flush(timeout, fail_fast)
        self._on = False
        self._closed = True
        _open_loggers.discard(self)
        if self._sender is not None:
            self._sender.stop(timeout=1.0)
        return delivered

    def stats(self) -> dict[str, Any]:
        """Delivery counters: sent, acknowledged, dropped, rejected, buffered, connected, last_error.

        ``server`` is sidelog's latest acknowledgement for the current connection, e.g.
        ``{"ok": true, "stored": 10, "rate_limited": 2}``: what the server did with them.
        """
        sender = self._sender
        if sender is None:
            return {"enabled": False}
        counters = sender.stats
        return {
            "enabled": self._on,
            "sent": counters.sent,
            "acknowledged": sender.outbox.acknowledged,
            "dropped": sender.outbox.dropped,
            "rejected": counters.rejected,
            "connects": counters.connects,
            "buffered": sender.buffered,
            "connected": sender.connected,
            "last_error": counters.last_error,
            "server": counters.last_ack,
        }

    def __enter__(self) -> EventLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "on" if self._on else "off"
        return f"<EventLogger {self.address} source={self.source!r} {state}>"

    def _after_fork(self) -> None:
        """In a forked child: the parent's thread is gone; start afresh with an empty buffer."""
        if self._on and not self._closed:
            if self._sender is not None:
                self._sender.abandon()
            self._start_sender()


def _discard(item: tuple[Any, ...]) -> None:
    """The enqueue function of a logger that never started."""


def _nothing() -> None:
    """The wake-up of a logger that never started."""


def _track(logger: EventLogger) -> None:
    """Remember an open logger; register the exit flush and the fork hook once, lazily."""
    global _hooks_installed
    _open_loggers.add(logger)
    if _hooks_installed:
        return
    with _hooks_lock:
        if not _hooks_installed:
            atexit.register(_flush_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_restart_after_fork)
            _hooks_installed = True


def _flush_at_exit() -> None:
    """Deliver what is buffered, waiting at most ``exit_timeout`` and not at all if sidelog is down."""
    for logger in list(_open_loggers):
        with contextlib.suppress(Exception):
            if not logger._close(logger.exit_timeout, fail_fast=True):
                left = logger._sender.buffered if logger._sender is not None else 0
                if left:
                    noun = "event" if left == 1 else "events"
                    print(
                        f"sidelog: {left} {noun} not delivered to {logger.address} (is sidelog running?)",
                        file=sys.stderr,
                    )


def _restart_after_fork() -> None:
    for logger in list(_open_loggers):
        with contextlib.suppress(Exception):
            logger._after_fork()


_default_logger: EventLogger | None = None
_default_lock = threading.Lock()


def default_logger() -> EventLogger:
    """The process-wide logger used by the handler, hook and middleware when given none.

    Created on first use from the environment, with ``source="server"``.
    """
    global _default_logger
    if _default_logger is None:
        with _default_lock:
            if _default_logger is None:
                _default_logger = EventLogger()
    return _default_logger
