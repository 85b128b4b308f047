"""Integrations: one call each, and the app's own library is imported only by that call.

    from sidelog_client.integrations import httpx as sidelog_httpx
    sidelog_httpx.instrument(client, logger=log)          # an httpx.Client or AsyncClient

``httpx``, ``requests`` and ``aiohttp`` log outgoing HTTP calls (method, host, path,
redacted query, status, duration; never a body); ``sqlalchemy`` logs database
statements (kind, table, duration; never a parameter). Each ``instrument`` returns an
``Instrumentation``: counters, and ``remove()`` to undo it. A hook never raises into
the app and never changes what a call returns: a failure inside one is swallowed and
counted in ``failures`` (README, "Integrations").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sidelog_client.capture import safe_str
from sidelog_client.redact import redact_query

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id")
"""Response headers whose value is kept on warn and error events (to find the call in server logs)."""

_clock = time.perf_counter
_wall = time.time


class Instrumentation:
    """What ``instrument()`` returns: how many calls were logged, how many hooks failed, and undo."""

    __slots__ = ("name", "active", "logged", "failures", "last_failure", "_undo")

    def __init__(self, name: str) -> None:
        self.name = name
        """Which integration (``"httpx"``, ``"sqlalchemy"``…)."""
        self.active = True
        """False after ``remove()``: hooks still attached (an aiohttp session's) log nothing."""
        self.logged = 0
        """Events this instrumentation logged."""
        self.failures = 0
        """Hook failures swallowed so that the app never saw them."""
        self.last_failure: str | None = None
        """``"Type: message"`` of the latest swallowed failure."""
        self._undo: Callable[[], None] | None = None

    def failed(self, exc: BaseException) -> None:
        """Count a failure inside a hook (called from ``except`` blocks only; never raises)."""
        self.failures += 1
        self.last_failure = f"{type(exc).__name__}: {safe_str(exc)}"

    def remove(self) -> None:
        """Take the hooks out again (and silence any that cannot be taken out); later calls are no-ops."""
        self.active = False
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    def __repr__(self) -> str:
        return f"<Instrumentation {self.name} logged={self.logged} failures={self.failures}>"


def library(name: str) -> Any:
    """The app's own library, imported when its integration is enabled (never at import time).

    Imported by name: the client declares no dependency on it, and the import-linter
    contract in /pyproject.toml (no server dependency in ``sidelog_client``) is about
    what the client needs, which this is not. A missing library gets a clear error.
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        raise ImportError(f"sidelog_client.integrations.{top} needs {top} installed in the app") from exc


def resolve(logger: EventLogger | None) -> EventLogger:
    """The logger given, else the process-wide default."""
    if logger is not None:
        return logger
    from sidelog_client.logger import default_logger

    return default_logger()


class HttpCalls:
    """Turns one outgoing HTTP call into one event; shared by the httpx, requests and aiohttp hooks.

    Category ``http`` (the request middleware's incoming requests are ``api``). A call
    slower than ``slow_ms`` is a ``warn``, a 5xx or a failed call an ``error``; those
    two also keep the response's request-id header, if any. Other calls are logged at
    ``level`` (``info``), or not at all when it is ``None``.

    A fast, fine call is the hot path, and ``fast`` says what a hook does with it:
    ``QUIET`` (``level=None``, or a level the logger drops): nothing, so it costs a
    clock read and two comparisons; ``DIRECT``: queue the raw values (``queue_fast``'s
    tuple, read by ``render_http`` on the sender thread), so the app's thread builds
    no dict, no message and redacts nothing; ``VIA_EVENT``: the logger is a subclass
    with its own ``event``, which then gets every call as before (``record``).
    Slow, 5xx and failed calls always go through ``record``: they are rare, and their
    request-id header is read while the response is at hand.
    """

    __slots__ = (
        "logger",
        "event",
        "slow_ms",
        "slow_s",
        "quiet_s",
        "category",
        "level",
        "state",
        "fast",
        "queue_fast",
    )

    def __init__(
        self,
        logger: EventLogger | None,
        slow_ms: float | None,
        category: str,
        state: Instrumentation,
        level: str | None = "info",
    ) -> None:
        self.logger = resolve(logger)
        self.event = self.logger.event  # bound once: the hot path calls it on every logged call
        self.slow_ms = self.logger.slow_request_ms if slow_ms is None else slow_ms
        self.slow_s = self.slow_ms / 1000
        """A call that took this many seconds or more is slow."""
        self.quiet_s = self.slow_s if level is None else -1.0
        """A call under 500 that took less than this is not logged (only with ``level=None``)."""
        self.category = category
        self.level = level
        self.state = state
        self.fast = fast_mode(self.logger, level)
        """What a fast, fine call becomes: ``QUIET``, ``DIRECT`` or ``VIA_EVENT``."""
        self.queue_fast = self._fast_queue()
        """Queue a fast, fine call as raw values (``DIRECT`` only; ``_fast_queue`` says how)."""

    def record(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        elapsed: float,
        status: int | None,
        error: BaseException | None = None,
        headers: Any = None,
    ) -> None:
        """Log the finished (``status``) or failed (``error``) call that took ``elapsed`` seconds.

        Called inside the hooks' ``try``.
        """
        state = self.state
        if not state.active:
            return
        if error is None and elapsed < self.slow_s and status is not None and status < 500:
            level = self.level
            if level is None:
                return
            message, details = http_event(method, host, path, query, status, elapsed)
            self.event(message, category=self.category, level=level, details=details)
            state.logged += 1
            return
        self._record_notable(method, host, path, query, elapsed, status, error, headers)

    def _fast_queue(self) -> Callable[[Callable[[Any], tuple[str, str, str]], Any, Any, int, float], None]:
        """``queue_fast``: a closure over what it reads, so a wrapped call pays for no
        attribute lookups on ``self`` or the logger (the hot path of every hook).

        ``queue_fast(target, method, url, status, elapsed)`` queues a fast, fine call
        (``DIRECT``) as raw values; ``render_http`` makes the event on the sender thread,
        where ``target(url)`` gives host, path and query. The logger's queue and counter
        are fixed once it is made (``EventLogger.__init__``); whether it is still on and
        this instrumentation still active are read on each call.
        """
        log, state, category, level = self.logger, self.state, self.category, self.level
        append, next_id, immediate, wake = log._append, log._next, log._immediate, log._wake

        def queue_fast(
            target: Callable[[Any], tuple[str, str, str]], method: Any, url: Any, status: int, elapsed: float
        ) -> None:
            if log._on and state.active:
                append(
                    (next_id(), _wall(), render_http, category, level, target, method, url, status, elapsed)
                )
                state.logged += 1
                if immediate:
                    wake()

        return queue_fast

    def _record_notable(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        elapsed: float,
        status: int | None,
        error: BaseException | None,
        headers: Any,
    ) -> None:
        """A slow, 5xx or failed call: a ``warn`` or ``error`` with what helps to find it again."""
        duration_ms = int(elapsed * 100_000 + 0.5) / 100
        details: dict[str, Any] = {
            "method": method,
            "host": host,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        }
        if query:
            details["query"] = redact_query(query)
        target = f"{method} {host}{path}"
        if error is not None:
            details["error"] = {"type": type(error).__name__, "message": safe_str(error)[:1000]}
            message, level = f"{target} failed: {type(error).__name__}", "error"
        else:
            message = f"{target} {status}"
            level = "error" if status is not None and status >= 500 else "info"
            if elapsed >= self.slow_s:
                details["slow"] = True
                details["slow_ms"] = self.slow_ms
                message += f" (slow: {duration_ms:.0f} ms)"
                if level == "info":
                    level = "warn"
            if headers is not None:
                request_id = first_header(headers)
                if request_id:
                    details["request_id"] = request_id
        self.event(message, category=self.category, level=level, details=details)
        self.state.logged += 1


QUIET, DIRECT, VIA_EVENT = 0, 1, 2
"""What a hook does with a call that is logged at the integration's ordinary level."""


def fast_mode(logger: EventLogger, level: str | None) -> int:
    """``QUIET``, ``DIRECT`` or ``VIA_EVENT`` for calls logged at ``level`` (see ``HttpCalls``).

    ``DIRECT`` needs the ``EventLogger``'s own ``event`` (a subclass overriding it
    gets every call through it) and a level the logger keeps (a dropped level is
    ``QUIET``: the event would be thrown away anyway).
    """
    if level is None:
        return QUIET
    from sidelog_client.logger import EventLogger

    if type(logger).event is not EventLogger.event:
        return VIA_EVENT
    try:
        return QUIET if level in logger._blocked else DIRECT
    except TypeError:  # an unhashable level: let event() deal with it
        return VIA_EVENT


def http_event(
    method: str, host: str, path: str, query: str, status: int, elapsed: float
) -> tuple[str, dict[str, Any]]:
    """Message and details of a fast, fine call (the common case: one dict, one f-string)."""
    details: dict[str, Any] = {
        "method": method,
        "host": host,
        "path": path,
        "status": status,
        "duration_ms": int(elapsed * 100_000 + 0.5) / 100,  # ms, 2 decimals (round() is slower)
    }
    if query:
        details["query"] = redact_query(query)
    return f"{method} {host}{path} {status}", details


def render_http(item: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """On the sender thread: message and details of a call a hook queued as raw values.

    ``item`` is ``(seq, time, render_http, category, level, target, method, url, status,
    elapsed)``; ``target(url)`` takes the URL apart as its library spells it.
    """
    _, _, _, _, _, target, method, url, status, elapsed = item
    host, path, query = target(url)
    return http_event(method if type(method) is str else safe_str(method), host, path, query, status, elapsed)


def first_header(headers: Any) -> str | None:
    """The first request-id header present in a case-insensitive headers mapping."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None
