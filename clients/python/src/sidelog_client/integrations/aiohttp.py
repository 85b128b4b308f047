"""Outgoing calls of an ``aiohttp.ClientSession`` as sidelog events, through aiohttp's tracing.

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp
    session = aiohttp.ClientSession(trace_configs=[sidelog_aiohttp.trace_config(logger=log)])
    sidelog_aiohttp.instrument(session, logger=log)     # or: a session that exists already

aiohttp calls the ``TraceConfig`` callbacks at the start of a request, on each
redirect, at its end (response headers received) and on an exception; the start
time lives in the per-request context aiohttp hands every callback, and each
redirect hop is logged as a call of its own. aiohttp
is imported only when one of these functions is called.
"""

from __future__ import annotations

from sidelog_client.integrations import HttpCalls, Instrumentation, _clock, library

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sidelog_client.logger import EventLogger


def trace_config(
    logger: EventLogger | None = None, *, slow_ms: float | None = None, category: str = "http"
) -> Any:
    """An ``aiohttp.TraceConfig`` logging each call; its ``Instrumentation`` is ``config.sidelog``."""
    aiohttp = library("aiohttp")
    state = Instrumentation("aiohttp")
    calls = HttpCalls(logger, slow_ms, category, state)
    config = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: Any) -> None:
        try:
            context.sidelog_started = _clock()
        except Exception as exc:
            state.failed(exc)

    async def on_response(session: Any, context: Any, params: Any) -> None:
        _log(calls, context, params, params.response.status, None, params.response.headers)

    async def on_redirect(session: Any, context: Any, params: Any) -> None:
        _log(calls, context, params, params.response.status, None, params.response.headers)
        context.sidelog_started = _clock()  # the next hop starts now (aiohttp starts a request once)

    async def on_exception(session: Any, context: Any, params: Any) -> None:
        _log(calls, context, params, None, params.exception, None)

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_response)
    config.on_request_redirect.append(on_redirect)
    config.on_request_exception.append(on_exception)
    config.sidelog = state
    return config


def instrument(
    session: Any, logger: EventLogger | None = None, *, slow_ms: float | None = None, category: str = "http"
) -> Instrumentation:
    """Add ``trace_config(...)`` to an existing session; ``remove()`` takes it out again."""
    config = trace_config(logger, slow_ms=slow_ms, category=category)
    config.freeze()  # what ClientSession does with the trace configs it is given
    session.trace_configs.append(config)  # the session's own list (aiohttp's ``trace_configs`` property)
    state: Instrumentation = config.sidelog

    def undo() -> None:
        if config in session.trace_configs:
            session.trace_configs.remove(config)

    state._undo = undo
    return state


def _log(
    calls: HttpCalls, context: Any, params: Any, status: int | None, error: BaseException | None, headers: Any
) -> None:
    try:
        started = getattr(context, "sidelog_started", None)
        if started is None:
            return
        context.sidelog_started = None
        url = params.url
        port = getattr(url, "explicit_port", url.port)  # yarl < 1.9 has no explicit_port
        host = url.host if port is None else f"{url.host}:{port}"
        calls.record(params.method, host, url.path, url.query_string, started, status, error, headers)
    except Exception as exc:
        calls.state.failed(exc)
