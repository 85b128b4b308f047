"""Outgoing calls of an ``httpx.Client`` or ``httpx.AsyncClient`` as sidelog events.

    from sidelog_client.integrations import httpx as sidelog_httpx
    sidelog_httpx.instrument(client, logger=log)

A response hook sees every response (each redirect hop too), put first so that an
app hook that raises (``raise_for_status``) cannot hide it. The client's ``send`` is
wrapped on this one instance: it stamps the call's start in ``request.extensions``
and sees the exception of a call that fails before any response (refused, timed
out), re-raised as it was. A redirect's next hop starts when the response hook is
done with the previous one: httpx copies the extensions into the request it builds
for that hop right after the hooks ran, so no request hook is needed (one call less
on every request). httpx itself is imported only here, when ``instrument`` is called.
"""

from __future__ import annotations

from collections.abc import Callable

from sidelog_client.integrations import (
    DIRECT,
    QUIET,
    HttpCalls,
    Instrumentation,
    _clock,
    library,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger

_STARTED = "sidelog.started"
"""Key in ``request.extensions``: when this hop started (transports ignore unknown keys)."""
_LOGGED = "sidelog.logged"
"""Key in ``request.extensions``: the hop request whose response was logged (not its error too)."""


def instrument(
    client: Any,
    logger: EventLogger | None = None,
    *,
    slow_ms: float | None = None,
    category: str = "http",
    level: str | None = "info",
) -> Instrumentation:
    """Log every call ``client`` makes; returns the ``Instrumentation`` (``remove()`` undoes it).

    ``level=None`` logs only slow, 5xx and failed calls.
    """
    httpx = library("httpx")
    state = Instrumentation("httpx")
    calls = HttpCalls(logger, slow_ms, category, state, level)
    on_response, on_failure = _hooks(calls)
    if isinstance(client, httpx.AsyncClient):
        response_hook, send = _async_wrappers(on_response, on_failure, client.send)
    else:
        response_hook = on_response  # httpx calls it as it is
        send = _sync_send(on_failure, client.send)
    client.event_hooks["response"].insert(0, response_hook)
    client.send = send

    def undo() -> None:
        if response_hook in client.event_hooks["response"]:
            client.event_hooks["response"].remove(response_hook)
        if client.__dict__.get("send") is send:
            del client.send

    state._undo = undo
    return state


def _hooks(calls: HttpCalls) -> tuple[Callable[[Any], None], Callable[[Any, BaseException], None]]:
    """The response hook, and what ``send`` calls when the call raised.

    The response hook is the hot path (every call): a fast, fine call is queued as
    raw values (method, the ``httpx.URL``, status, duration; ``HttpCalls``), taken
    apart and redacted on the sender thread, or not at all with ``level=None``;
    everything it needs is bound here, once.
    """
    state, record, queue_fast = calls.state, calls.record, calls.queue_fast
    fast, slow_s = calls.fast, calls.slow_s

    def on_response(response: Any) -> None:
        try:
            now = _clock()
            request = response.request
            extensions = request.extensions
            started = extensions.get(_STARTED)
            if started is None:
                return
            extensions[_STARTED] = now  # a redirect's next hop starts now (its request copies these)
            extensions[_LOGGED] = request
            status = response.status_code
            elapsed = now - started
            if elapsed < slow_s and status < 500:
                if fast is DIRECT:
                    queue_fast(_target, request.method, request.url, status, elapsed)
                    return
                if fast is QUIET:
                    return
            host, path, query = _target(request.url)
            record(request.method, host, path, query, elapsed, status, None, response.headers)
        except Exception as exc:
            state.failed(exc)

    def on_failure(request: Any, exc: BaseException) -> None:
        """Log a call that raised before any response hook saw it (refused, timed out…)."""
        try:
            now = _clock()
            target = _failed_request(exc, request)
            extensions = target.extensions
            if extensions.get(_LOGGED) is target:
                return  # its response was logged already (an app hook raised after ours)
            started = extensions.get(_STARTED)
            host, path, query = _target(target.url)
            record(
                target.method, host, path, query, 0.0 if started is None else now - started, None, exc, None
            )
        except Exception as hook_exc:
            state.failed(hook_exc)

    return on_response, on_failure


def _target(url: Any) -> tuple[str, str, str]:
    """``(host[:port], path, query)`` as sent.

    httpx keeps the parsed URL as a named tuple of its parts as they go on the wire
    (host IDNA-encoded, path percent-encoded, as the requests integration logs them):
    reading those costs a fraction of the public properties, which decode or unquote
    anew on each access. Another httpx without that attribute gets the properties.
    """
    parts = getattr(url, "_uri_reference", None)
    if parts is not None:
        host, port, path, query = parts.host, parts.port, parts.path or "/", parts.query or ""
    else:
        host, port, path = url.host, url.port, url.path
        query = url.query.decode("ascii", "replace") if url.query else ""
    return (host if port is None else f"{host}:{port}"), path, query


def _failed_request(exc: BaseException, request: Any) -> Any:
    """The hop that failed (an ``httpx.RequestError`` carries it; its ``request`` property may raise)."""
    try:
        return exc.request  # type: ignore[attr-defined]
    except Exception:
        return request


_SEND_KEYWORDS = ("stream", "auth", "follow_redirects")
"""``Client.send``'s keyword-only parameters in httpx 0.23 and later."""


def _send_defaults(original_send: Callable[..., Any]) -> tuple[Any, Any, Any] | None:
    """The defaults of ``send``'s parameters if it is ``send(request, *, stream, auth, follow_redirects)``.

    Then the wrapper takes the same parameters by name: forwarding ``*args, **kwargs``
    instead costs CPython more than the rest of the hook put together (a dict built and
    taken apart on every call). Any other signature gets the generic wrapper.
    """
    import inspect

    try:
        parameters = list(inspect.signature(original_send).parameters.values())
    except (TypeError, ValueError):
        return None
    if len(parameters) != 4 or parameters[0].kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
        return None
    keywords = parameters[1:]
    if tuple(p.name for p in keywords) != _SEND_KEYWORDS or any(
        p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty for p in keywords
    ):
        return None
    return keywords[0].default, keywords[1].default, keywords[2].default


def _stamp(request: Any) -> None:
    """Note when this call starts (a request sent again is a new call)."""
    try:
        extensions = request.extensions
        extensions[_STARTED] = _clock()
        extensions.pop(_LOGGED, None)
    except Exception:  # not an httpx.Request: httpx will say so itself
        pass


def _sync_send(
    on_failure: Callable[[Any, BaseException], None], original_send: Callable[..., Any]
) -> Callable[..., Any]:
    """``send`` for an ``httpx.Client``: stamps the start; sees the exception of a call with no response."""
    defaults = _send_defaults(original_send)
    if defaults is not None:
        no_stream, no_auth, no_follow = defaults

        def send_named(
            request: Any, *, stream: Any = no_stream, auth: Any = no_auth, follow_redirects: Any = no_follow
        ) -> Any:
            _stamp(request)
            try:
                return original_send(request, stream=stream, auth=auth, follow_redirects=follow_redirects)
            except Exception as exc:
                on_failure(request, exc)
                raise

        return send_named

    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        _stamp(request)
        try:
            return original_send(request, *args, **kwargs)
        except Exception as exc:
            on_failure(request, exc)
            raise

    return send


def _async_wrappers(
    on_response: Callable[[Any], None],
    on_failure: Callable[[Any, BaseException], None],
    original_send: Callable[..., Any],
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The response hook and ``send`` for an ``httpx.AsyncClient`` (its hooks must be coroutine functions)."""

    async def response_hook(response: Any) -> None:
        on_response(response)

    defaults = _send_defaults(original_send)
    if defaults is not None:
        no_stream, no_auth, no_follow = defaults

        async def send_named(
            request: Any, *, stream: Any = no_stream, auth: Any = no_auth, follow_redirects: Any = no_follow
        ) -> Any:
            _stamp(request)
            try:
                return await original_send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            except Exception as exc:
                on_failure(request, exc)
                raise

        return response_hook, send_named

    async def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        _stamp(request)
        try:
            return await original_send(request, *args, **kwargs)
        except Exception as exc:
            on_failure(request, exc)
            raise

    return response_hook, send
