"""Outgoing calls of an ``aiohttp.ClientSession`` as sidelog events.

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp
    session = aiohttp.ClientSession(middlewares=[sidelog_aiohttp.middleware(logger=log)])  # aiohttp ≥ 3.12
    session = aiohttp.ClientSession(trace_configs=[sidelog_aiohttp.trace_config(logger=log)])
    sidelog_aiohttp.instrument(session, logger=log)     # or: a session that exists already

Two ways in, both logging each hop (a redirect is a call of its own):

* ``middleware`` — aiohttp's client middleware (3.12 and later): one coroutine per
  hop, around the request as it is sent. The cheap way (a few µs per call, ``python -m
  sidelog.bench.integrations``). A request given its own ``middlewares=`` skips the
  session's, this one included.
* ``trace_config`` — aiohttp's tracing: callbacks at the start of a request, on each
  redirect, at its end and on an exception, the start time kept in the per-request
  context. Any aiohttp 3, and it sees every request, but aiohttp's tracing machinery
  costs several times what the middleware does, whatever the callbacks do.

``instrument(session)`` adds the middleware to a session that exists already (after
the app's own, so it times what goes on the wire), or a trace config where aiohttp
has no client middleware. aiohttp is imported only when one of these functions is called.
"""

from __future__ import annotations

from sidelog_client.integrations import (
    DIRECT,
    QUIET,
    HttpCalls,
    Instrumentation,
    _clock,
    _wall,
    library,
    render_http,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger


def middleware(
    logger: EventLogger | None = None,
    *,
    slow_ms: float | None = None,
    category: str = "http",
    level: str | None = "info",
) -> Any:
    """A client middleware logging each call; its ``Instrumentation`` is ``middleware.sidelog``.

    ``level=None`` logs only slow, 5xx and failed calls.
    """
    library("aiohttp")
    state = Instrumentation("aiohttp")
    calls = HttpCalls(logger, slow_ms, category, state, level)
    record, fast, slow_s = calls.record, calls.fast, calls.slow_s
    # ``calls.queue_fast`` inlined below (a call fewer on every request): the logger's
    # queue and counter are fixed once it is made; the tuple is the one ``render_http`` reads.
    log, category, level = calls.logger, calls.category, calls.level
    append, next_id, immediate, wake = log._append, log._next, log._immediate, log._wake

    async def sidelog_middleware(request: Any, handler: Any) -> Any:
        started = _clock()
        try:
            response = await handler(request)
        except BaseException as exc:  # a timeout arrives as the cancellation aiohttp turns into one
            _log(calls, request.method, request.url, _clock() - started, None, exc, None)
            raise
        try:
            elapsed = _clock() - started
            status = response.status
            if elapsed < slow_s and status < 500:
                # The hot path: a fast, fine call is queued as raw values (``HttpCalls``).
                if fast is DIRECT:
                    if log._on and state.active:
                        method, url = request.method, request.url
                        item = (
                            next_id(),
                            _wall(),
                            render_http,
                            category,
                            level,
                            _yarl_target,
                            method,
                            url,
                            status,
                            elapsed,
                        )
                        append(item)
                        state.logged += 1
                        if immediate:
                            wake()
                    return response
                if fast is QUIET:
                    return response
            host, path, query = _yarl_target(request.url)
            record(request.method, host, path, query, elapsed, status, None, response.headers)
        except Exception as exc:
            state.failed(exc)
        return response

    sidelog_middleware.sidelog = state  # type: ignore[attr-defined]
    return sidelog_middleware


def trace_config(
    logger: EventLogger | None = None,
    *,
    slow_ms: float | None = None,
    category: str = "http",
    level: str | None = "info",
) -> Any:
    """An ``aiohttp.TraceConfig`` logging each call; its ``Instrumentation`` is ``config.sidelog``."""
    aiohttp = library("aiohttp")
    state = Instrumentation("aiohttp")
    calls = HttpCalls(logger, slow_ms, category, state, level)
    config = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: Any) -> None:
        context.sidelog_started = _clock()

    async def on_response(session: Any, context: Any, params: Any) -> None:
        _log_traced(calls, context, params, params.response.status, None, params.response.headers)

    async def on_redirect(session: Any, context: Any, params: Any) -> None:
        _log_traced(calls, context, params, params.response.status, None, params.response.headers)
        context.sidelog_started = _clock()  # the next hop starts now (aiohttp starts a request once)

    async def on_exception(session: Any, context: Any, params: Any) -> None:
        _log_traced(calls, context, params, None, params.exception, None)

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_response)
    config.on_request_redirect.append(on_redirect)
    config.on_request_exception.append(on_exception)
    config.sidelog = state
    return config


def instrument(
    session: Any,
    logger: EventLogger | None = None,
    *,
    slow_ms: float | None = None,
    category: str = "http",
    level: str | None = "info",
) -> Instrumentation:
    """Add ``middleware(...)`` (or ``trace_config(...)``) to an existing session; ``remove()`` undoes it."""
    if isinstance(getattr(session, "_middlewares", None), tuple):
        # aiohttp ≥ 3.12 keeps the session's middlewares in this tuple and reads it on
        # every request; there is no public way to add one to a session already made.
        hook = middleware(logger, slow_ms=slow_ms, category=category, level=level)
        session._middlewares = (*session._middlewares, hook)
        state: Instrumentation = hook.sidelog

        def undo() -> None:
            session._middlewares = tuple(item for item in session._middlewares if item is not hook)

    else:
        config = trace_config(logger, slow_ms=slow_ms, category=category, level=level)
        config.freeze()  # what ClientSession does with the trace configs it is given
        session.trace_configs.append(config)  # the session's own list (aiohttp's ``trace_configs`` property)
        state = config.sidelog

        def undo() -> None:
            if config in session.trace_configs:
                session.trace_configs.remove(config)

    state._undo = undo
    return state


def _log(
    calls: HttpCalls,
    method: str,
    url: Any,
    elapsed: float,
    status: int | None,
    error: BaseException | None,
    headers: Any,
) -> None:
    try:
        if error is None and status is not None and status < 500 and elapsed < calls.slow_s:
            fast = calls.fast
            if fast is DIRECT:
                calls.queue_fast(_yarl_target, method, url, status, elapsed)
                return
            if fast is QUIET:
                return
        host, path, query = _yarl_target(url)
        calls.record(method, host, path, query, elapsed, status, error, headers)
    except Exception as exc:
        calls.state.failed(exc)


def _yarl_target(url: Any) -> tuple[str, str, str]:
    """``(host[:port], path, query)`` of a ``yarl.URL`` (the port only when the URL names it)."""
    port = getattr(url, "explicit_port", url.port)  # yarl < 1.9 has no explicit_port
    return (url.host if port is None else f"{url.host}:{port}"), url.path, url.query_string


def _log_traced(
    calls: HttpCalls, context: Any, params: Any, status: int | None, error: BaseException | None, headers: Any
) -> None:
    try:
        started = getattr(context, "sidelog_started", None)
        if started is None:
            return
        context.sidelog_started = None
    except Exception as exc:
        calls.state.failed(exc)
        return
    _log(calls, params.method, params.url, _clock() - started, status, error, headers)
