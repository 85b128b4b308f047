"""Outgoing calls of an ``httpx.Client`` or ``httpx.AsyncClient`` as sidelog events.

    from sidelog_client.integrations import httpx as sidelog_httpx
    sidelog_httpx.instrument(client, logger=log)

Event hooks see every response (each redirect hop too), put first so that an app
hook that raises (``raise_for_status``) cannot hide it. A call that fails before any
response (refused, timed out) never reaches a response hook, so the client's
``send`` is wrapped on this one instance to see the exception; it is re-raised as
it was. httpx itself is imported only here, when ``instrument`` is called.
"""

from __future__ import annotations

from collections.abc import Callable

from sidelog_client.integrations import HttpCalls, Instrumentation, _clock, library

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

_STARTED = "sidelog.started"
"""Key in ``request.extensions``: when the request hook saw the request (transports ignore it)."""
_LOGGED = "sidelog.logged"


def instrument(
    client: Any, logger: EventLogger | None = None, *, slow_ms: float | None = None, category: str = "http"
) -> Instrumentation:
    """Log every call ``client`` makes; returns the ``Instrumentation`` (``remove()`` undoes it)."""
    httpx = library("httpx")
    state = Instrumentation("httpx")
    calls = HttpCalls(logger, slow_ms, category, state)
    is_async = isinstance(client, httpx.AsyncClient)

    def on_request(request: Any) -> None:
        try:
            request.extensions[_STARTED] = _clock()
        except Exception as exc:
            state.failed(exc)

    def on_response(response: Any) -> None:
        try:
            request = response.request
            started = request.extensions.get(_STARTED)
            if started is None:
                return
            request.extensions[_LOGGED] = True
            _record(calls, request, started, response.status_code, None, response.headers)
        except Exception as exc:
            state.failed(exc)

    def on_failure(request: Any, started: float, exc: BaseException) -> None:
        try:
            target = _failed_request(exc, request)
            if target.extensions.get(_LOGGED):
                return  # its response was logged already (an app hook raised after ours)
            _record(calls, target, target.extensions.get(_STARTED, started), None, exc, None)
        except Exception as hook_exc:
            state.failed(hook_exc)

    wrap = _async_wrappers if is_async else _sync_wrappers
    request_hook, response_hook, send = wrap(on_request, on_response, on_failure, client.send)
    hooks = client.event_hooks
    hooks["request"].insert(0, request_hook)
    hooks["response"].insert(0, response_hook)
    client.send = send

    def undo() -> None:
        for name, hook in (("request", request_hook), ("response", response_hook)):
            if hook in client.event_hooks[name]:
                client.event_hooks[name].remove(hook)
        if client.__dict__.get("send") is send:
            del client.send

    state._undo = undo
    return state


def _record(
    calls: HttpCalls,
    request: Any,
    started: float,
    status: int | None,
    error: BaseException | None,
    headers: Any,
) -> None:
    url = request.url
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    query = url.query.decode("ascii", "replace") if url.query else ""
    calls.record(request.method, host, url.path, query, started, status, error, headers)


def _failed_request(exc: BaseException, request: Any) -> Any:
    """The hop that failed (an ``httpx.RequestError`` carries it; its ``request`` property may raise)."""
    try:
        return exc.request  # type: ignore[attr-defined]
    except Exception:
        return request


def _sync_wrappers(
    on_request: Callable[[Any], None],
    on_response: Callable[[Any], None],
    on_failure: Callable[[Any, float, BaseException], None],
    original_send: Callable[..., Any],
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Hooks and ``send`` for an ``httpx.Client``."""

    def request_hook(request: Any) -> None:
        on_request(request)

    def response_hook(response: Any) -> None:
        on_response(response)

    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        started = _clock()
        try:
            return original_send(request, *args, **kwargs)
        except Exception as exc:
            on_failure(request, started, exc)
            raise

    return request_hook, response_hook, send


def _async_wrappers(
    on_request: Callable[[Any], None],
    on_response: Callable[[Any], None],
    on_failure: Callable[[Any, float, BaseException], None],
    original_send: Callable[..., Any],
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Hooks and ``send`` for an ``httpx.AsyncClient`` (its hooks must be coroutine functions)."""

    async def request_hook(request: Any) -> None:
        on_request(request)

    async def response_hook(response: Any) -> None:
        on_response(response)

    async def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        started = _clock()
        try:
            return await original_send(request, *args, **kwargs)
        except Exception as exc:
            on_failure(request, started, exc)
            raise

    return request_hook, response_hook, send
