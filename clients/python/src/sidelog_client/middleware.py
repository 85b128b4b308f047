"""Request logging for ASGI and WSGI apps (one event per request).

Each request becomes one event, category ``api``, source ``middleware``: message
``"GET /path 200"``, details with method, path, query, status and duration in ms
(secret query parameters redacted: ``sidelog_client/redact.py``).
A request slower than ``slow_ms`` is a ``warn``; a 5xx response is an ``error``; an
exception escaping the app is logged as an error with its stack (grouped by type
and top frame) and then re-raised untouched. Both wrappers add one clock read and
one enqueue per request; they never swallow or delay the app's own behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any
from wsgiref.util import request_uri

from sidelog_client.redact import redact_query, redact_url

if TYPE_CHECKING:
    from sidelog_client.logger import EventLogger

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # loose on purpose: frameworks type scope/receive/send differently
StartResponse = Callable[..., Any]
WSGIApp = Callable[..., Iterable[bytes]]


class _RequestLog:
    """What both middlewares share: resolve the logger, and turn one request into one event."""

    def __init__(self, logger: EventLogger | None, slow_ms: float | None, category: str) -> None:
        self._logger = logger
        self._slow_ms = slow_ms
        self._category = category

    @property
    def logger(self) -> EventLogger:
        """The logger given, else the process-wide default (created on first request)."""
        if self._logger is None:
            from sidelog_client.logger import default_logger

            self._logger = default_logger()
        return self._logger

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        url: str | None,
        status: int | None,
        started: float,
        error: BaseException | None = None,
        cancelled: bool = False,
        user_agent: str | None = None,
    ) -> None:
        """Log the finished (or failed) request; never raises."""
        try:
            logger = self.logger
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            slow_ms = logger.slow_request_ms if self._slow_ms is None else self._slow_ms
            details: dict[str, Any] = {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            }
            if query:
                details["query"] = redact_query(query)
            if user_agent:
                details["user_agent"] = user_agent
            slow = duration_ms >= slow_ms
            if slow:
                details["slow"] = True
                details["slow_ms"] = slow_ms
            if cancelled:
                details["cancelled"] = True
            if url is not None:
                url = redact_url(url)
            if error is not None:
                details["status"] = status or 500
                logger.error(error, category=self._category, source="middleware", url=url, details=details)
                return
            if status is not None and status >= 500:
                level = "error"
            elif slow:
                level = "warn"
            else:
                level = "info"
            message = f"{method} {path} {status if status is not None else '-'}"
            if slow:
                message += f" (slow: {duration_ms:.0f} ms)"
            logger.event(
                message, category=self._category, level=level, source="middleware", url=url, details=details
            )
        except Exception:  # logging must never break a request
            return


class SidelogASGIMiddleware:
    """Wrap an ASGI app: ``app = SidelogASGIMiddleware(app)``. HTTP requests only; others pass through."""

    def __init__(
        self,
        app: ASGIApp,
        logger: EventLogger | None = None,
        slow_ms: float | None = None,
        category: str = "api",
    ) -> None:
        self.app = app
        self._log = _RequestLog(logger, slow_ms, category)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the wrapped app and log the request when it is done."""
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0)) or None
            await send(message)

        method = str(scope.get("method", "GET"))
        path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
        query = _text(scope.get("query_string", b""))

        def finish(
            error: BaseException | None = None, cancelled: bool = False, user_agent: str | None = None
        ) -> None:
            self._log.record(
                method=method,
                path=path,
                query=query,
                url=_asgi_url(scope, path, query),
                status=status,
                started=started,
                error=error,
                cancelled=cancelled,
                user_agent=user_agent,
            )

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as exc:
            finish(error=exc)
            raise
        except BaseException:  # cancelled (client went away) or shutting down
            finish(cancelled=True)
            raise
        finish(user_agent=_header(scope, b"user-agent"))


class SidelogWSGIMiddleware:
    """Wrap a WSGI app: ``app = SidelogWSGIMiddleware(app)``.

    The request is logged when the server closes the response body, so the
    duration includes streaming it.
    """

    def __init__(
        self,
        app: WSGIApp,
        logger: EventLogger | None = None,
        slow_ms: float | None = None,
        category: str = "api",
    ) -> None:
        self.app = app
        self._log = _RequestLog(logger, slow_ms, category)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the wrapped app; its body is returned wrapped so completion can be timed."""
        started = time.perf_counter()
        status: list[int | None] = [None]

        def start_and_watch(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            try:
                status[0] = int(status_line.split(" ", 1)[0])
            except ValueError:
                status[0] = None
            return start_response(status_line, headers, exc_info)

        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        query = str(environ.get("QUERY_STRING", ""))
        url = _wsgi_url(environ)
        agent = environ.get("HTTP_USER_AGENT")

        def finish(error: BaseException | None) -> None:
            self._log.record(
                method=method,
                path=path,
                query=query,
                url=url,
                status=status[0],
                started=started,
                error=error,
                user_agent=agent,
            )

        try:
            body = self.app(environ, start_and_watch)
        except Exception as exc:
            finish(exc)
            raise
        return _TimedBody(body, finish)


class _TimedBody:
    """The app's response iterable, reporting once when iteration fails or the server closes it."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[BaseException | None], None]) -> None:
        self._body = body
        self._finish = finish
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except Exception as exc:
            self._report(exc)
            raise

    def close(self) -> None:
        """Close the app's iterable (PEP 3333), then log the request."""
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._report(None)

    def _report(self, error: BaseException | None) -> None:
        if not self._done:
            self._done = True
            self._finish(error)


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value or "")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if bytes(key).lower() == name:
            return _text(value)
    return None


def _asgi_url(scope: Scope, path: str, query: str) -> str | None:
    """The full request URL, from the Host header (else the server address) and scheme."""
    try:
        host = _header(scope, b"host")
        if host is None and scope.get("server"):
            server_host, port = scope["server"][:2]
            host = f"{server_host}:{port}" if port else str(server_host)
        scheme = scope.get("scheme", "http")
        url = f"{scheme}://{host}{path}" if host else path
        return f"{url}?{query}" if query else url
    except Exception:
        return None


def _wsgi_url(environ: dict[str, Any]) -> str | None:
    try:
        return request_uri(environ, include_query=True)
    except Exception:
        return None
