"""What each Python client integration adds to the call it wraps (README, "Integrations").

Run: ``python -m sidelog.bench.integrations`` (prints JSON). The target is at most
5 µs per wrapped call. The figure is the whole cost the hook adds to the call: the
same call on the same kind of client, instrumented minus untouched (no do-nothing
hooks in the baseline, so the library's own cost of having a hook at all is counted).
Each call runs on the cheapest real path the library offers, so that a few µs are
not lost in network noise:

- ``httpx``: ``client.get`` on an ``httpx.MockTransport`` (httpx's own in-process
  transport; the hooks under test are sidelog's, not the transport);
- ``requests``: ``session.get`` through a transport adapter answering from memory
  (requests' own extension point; ``instrument`` wraps it like any adapter);
- ``aiohttp``: ``session.get`` against an aiohttp server on loopback, in the same
  event loop, keep-alive (aiohttp has no in-process transport, so this figure is the
  noisiest), on a session given ``instrument`` (the client middleware) and, as
  ``trace_config_us``, one given ``trace_config``; without the socket's noise,
  ``middleware_hooks_us`` is the middleware run as aiohttp runs it for one hop (the
  chain built per request, then awaited) and ``trace_config_hooks_us`` the tracing work
  aiohttp does for one request with the trace config (``Trace`` objects, the request
  start/reuse/end signals, awaited as ``ClientSession._request`` awaits them), each
  against the bare handler or nothing;
- ``sqlalchemy``: ``SELECT 1`` on an in-memory SQLite engine, every statement logged
  (``level="debug"``), and ``unlogged_us``: the same with ``level=None`` (only slow
  and failed statements become events, the usual production setting).

Calls are timed in batches of ten by the CPU time of the calling thread
(``time.thread_time_ns``: what the call makes this thread do, not how long another
process kept it waiting), batches of the two clients alternating; the added cost is
the median of the differences of adjacent batches, ``added_iqr_us`` their
interquartile range (how much to trust it). The
logger sends to a local listener that acknowledges like sidelog, so its sender
thread runs meanwhile. A library that is not installed is reported as ``None``.
On a loaded machine every figure grows alike: ``reference_event_us`` (one
``EventLogger.event`` in thread CPU time, the median of measurements taken before each
library and at the end; about 0.3 µs on an idle machine) says by how much
(``machine_slowdown``), and ``worst_added_us_at_reference_speed`` scales the worst
figure back: an estimate, since a busy machine also evicts caches, which costs the
hooks (called between the library's own code) more than the reference.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from sidelog.bench.client_cost import _acking_listener
from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger

TARGET_US = 5.0
EVENT_US_IDLE = 0.3
"""``EventLogger.event`` on an idle machine (README, "Client libraries"): the speed reference."""
_BATCH = 10
URL = "http://api.example.test/v1/items?page=2&api_key=k"


def integration_overhead(n: int = 8_000) -> dict[str, Any]:
    """Median cost added per wrapped call, in µs, for each integration (``None``: not installed)."""
    references: list[float] = []
    with _acking_listener() as port:
        log = EventLogger(f"127.0.0.1:{port}", config=ClientConfig(), level="debug", buffer_size=1_000_000)
        try:
            results: dict[str, Any] = {}
            for name, measure in (
                ("httpx", _httpx),
                ("requests", _requests),
                ("aiohttp", _aiohttp),
                ("sqlalchemy", _sqlalchemy),
            ):
                references.append(_event_cost(log, n))
                results[name] = _optional(measure, log, n)
            references.append(_event_cost(log, n))
            log.flush(10.0)
        finally:
            log.close(timeout=2.0)
    measured = [value["added_us"] for value in results.values() if isinstance(value, dict)]
    reference = statistics.median(references)
    speed = max(reference / EVENT_US_IDLE, 1.0)
    results["reference_event_us"] = round(reference, 3)
    results["machine_slowdown"] = round(speed, 2)
    results["target_us"] = TARGET_US
    results["worst_added_us"] = max(measured) if measured else None
    results["worst_added_us_at_reference_speed"] = (
        round(results["worst_added_us"] / speed, 3) if measured else None
    )
    return results


def _event_cost(log: EventLogger, n: int) -> float:
    """Thread CPU µs of one ``EventLogger.event`` call here (median of batches): the speed reference."""
    clock = time.thread_time_ns
    samples = []
    for _ in range(max(10, n // 100)):
        started = clock()
        for _ in range(100):
            log.event("reference", category="bench", details=None)
        samples.append((clock() - started) / 100)
    return statistics.median(samples) / 1000


def _optional(measure: Callable[[EventLogger, int], dict[str, Any]], log: EventLogger, n: int) -> Any:
    try:
        return measure(log, n)
    except ImportError:
        return None


def _batch(call: Callable[[], Any], clock: Callable[[], int]) -> float:
    """Thread CPU ns per call over one batch of ``_BATCH`` calls."""
    started = clock()
    for _ in range(_BATCH):
        call()
    return (clock() - started) / _BATCH


def _compare(plain: Callable[[], Any], traced: Callable[[], Any], n: int) -> dict[str, Any]:
    """µs per call without and with the hook, and the added cost with its spread.

    Batches of ``_BATCH`` calls of each client alternate (ABBA…), each pair timed back
    to back, so a change in the machine's load hits both sides of a pair alike; the
    added cost is the median of the pairs' differences. Time is the CPU time of this
    thread (``time.thread_time_ns``), not wall time: on a shared machine a call's wall
    time includes however long the scheduler kept it waiting, which says nothing about
    the hook and swamps a few µs. (The logger's sender thread is not counted: it works
    in the background.) The garbage collector is off while a batch runs, since a
    collection would land on one side only; that the events a hook queues make the next
    collection come a little sooner is therefore not in the figure.
    """
    clock = time.thread_time_ns
    pairs = max(20, n // _BATCH)
    for _ in range(min(n // 4, 500)):  # warm both paths (imports, caches, pools)
        plain()
        traced()
    without = [0.0] * pairs
    with_hook = [0.0] * pairs
    gc.collect()
    gc.disable()  # a collection inside one side's batch would count against it only
    try:
        for index in range(pairs):
            if index % 2:
                with_hook[index] = _batch(traced, clock)
                without[index] = _batch(plain, clock)
            else:
                without[index] = _batch(plain, clock)
                with_hook[index] = _batch(traced, clock)
            if index % 50 == 49:
                gc.collect()
    finally:
        gc.enable()
    added = sorted((b - a) / 1000 for a, b in zip(without, with_hook, strict=True))
    quarter = len(added) // 4
    return {
        "without_us": round(statistics.median(without) / 1000, 3),
        "with_us": round(statistics.median(with_hook) / 1000, 3),
        "added_us": round(statistics.median(added), 3),
        "added_iqr_us": [round(added[quarter], 3), round(added[-quarter - 1], 3)],
    }


def _httpx(log: EventLogger, n: int) -> dict[str, Any]:
    import httpx

    from sidelog_client.integrations import httpx as sidelog_httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"x-request-id": "r-1"}, content=b"ok")

    plain = httpx.Client(transport=httpx.MockTransport(answer))
    traced = httpx.Client(transport=httpx.MockTransport(answer))
    sidelog_httpx.instrument(traced, logger=log, slow_ms=60_000)
    try:
        return _compare(lambda: plain.get(URL), lambda: traced.get(URL), n)
    finally:
        plain.close()
        traced.close()


def _requests(log: EventLogger, n: int) -> dict[str, Any]:
    import requests
    from requests.adapters import BaseAdapter

    from sidelog_client.integrations import requests as sidelog_requests

    class Memory(BaseAdapter):
        """Answers every request from memory: no socket, so the hook's cost stands out."""

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = requests.Response()
            response.status_code = 200
            response.headers["x-request-id"] = "r-1"
            response._content = b"ok"
            response.request = request
            response.url = request.url
            return response

        def close(self) -> None:
            return None

    sessions = []
    for _ in range(2):
        session = requests.Session()
        session.trust_env = False
        session.mount("http://", Memory())
        sessions.append(session)
    plain, traced = sessions
    sidelog_requests.instrument(traced, logger=log, slow_ms=60_000)
    return _compare(lambda: plain.get(URL), lambda: traced.get(URL), n)


def _aiohttp(log: EventLogger, n: int) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=b"ok", headers={"x-request-id": "r-1"})

    loop = asyncio.new_event_loop()

    async def start() -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_get("/v1/items", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return runner, f"http://127.0.0.1:{port}/v1/items?page=2&api_key=k"

    async def sessions() -> list[aiohttp.ClientSession]:
        plain, instrumented = aiohttp.ClientSession(), aiohttp.ClientSession()
        sidelog_aiohttp.instrument(instrumented, log, slow_ms=60_000)  # the middleware (aiohttp ≥ 3.12)
        config = sidelog_aiohttp.trace_config(log, slow_ms=60_000)
        return [plain, instrumented, aiohttp.ClientSession(trace_configs=[config])]

    async def get(session: aiohttp.ClientSession, url: str) -> None:
        async with session.get(url) as response:
            await response.read()

    count = max(n // 2, _BATCH * 20)
    runner, url = loop.run_until_complete(start())
    plain, instrumented, traced = loop.run_until_complete(sessions())
    try:
        result = _compare(
            lambda: loop.run_until_complete(get(plain, url)),
            lambda: loop.run_until_complete(get(instrumented, url)),
            count,
        )
        result["hook"] = "middleware" if getattr(instrumented, "_middlewares", ()) else "trace_config"
        result["trace_config_us"] = _compare(
            lambda: loop.run_until_complete(get(plain, url)),
            lambda: loop.run_until_complete(get(traced, url)),
            count,
        )["added_us"]
        result["middleware_hooks_us"] = _aiohttp_middleware(log, loop, n)["added_us"]
        result["trace_config_hooks_us"] = _aiohttp_tracing(log, loop, n)["added_us"]
    finally:
        for session in (plain, instrumented, traced):
            loop.run_until_complete(session.close())
        loop.run_until_complete(runner.cleanup())
        loop.close()
    return result


def _aiohttp_middleware(log: EventLogger, loop: asyncio.AbstractEventLoop, n: int) -> dict[str, Any]:
    """The middleware as aiohttp runs it for one hop (its chain built per request) against the handler."""
    from types import SimpleNamespace

    from aiohttp.client_middlewares import build_client_middlewares
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL as YarlURL

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp

    middleware = sidelog_aiohttp.middleware(log, slow_ms=60_000)
    request = SimpleNamespace(method="GET", url=YarlURL(URL))  # what the middleware reads of a ClientRequest
    response = SimpleNamespace(status=200, headers=CIMultiDictProxy(CIMultiDict({"x-request-id": "r-1"})))

    async def handler(request: Any) -> Any:
        return response

    async def plain() -> None:
        await handler(request)

    async def traced() -> None:
        await build_client_middlewares(handler, (middleware,))(request)  # type: ignore[arg-type]

    return _compare(lambda: loop.run_until_complete(plain()), lambda: loop.run_until_complete(traced()), n)


def _aiohttp_tracing(log: EventLogger, loop: asyncio.AbstractEventLoop, n: int) -> dict[str, Any]:
    """The tracing aiohttp does per request on a reused connection, with sidelog's config, against none."""
    from types import SimpleNamespace

    from aiohttp.tracing import Trace
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL as YarlURL

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp

    config = sidelog_aiohttp.trace_config(log, slow_ms=60_000)
    config.freeze()
    url = YarlURL(URL)
    headers = CIMultiDict({"Host": "api.example.test"})
    response = SimpleNamespace(status=200, headers=CIMultiDictProxy(CIMultiDict({"x-request-id": "r-1"})))
    session = SimpleNamespace()

    async def nothing() -> None:
        return None

    async def traced() -> None:
        traces = [Trace(session, config, config.trace_config_ctx(trace_request_ctx=None))]  # type: ignore[arg-type]
        for trace in traces:
            await trace.send_request_start("GET", url, headers)
        for trace in traces:
            await trace.send_connection_reuseconn()
        for trace in traces:
            await trace.send_request_end("GET", url, headers, response)  # type: ignore[arg-type]

    return _compare(lambda: loop.run_until_complete(nothing()), lambda: loop.run_until_complete(traced()), n)


def _sqlalchemy(log: EventLogger, n: int) -> dict[str, Any]:
    import sqlalchemy

    from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy

    bare = sqlalchemy.create_engine("sqlite://")
    traced = sqlalchemy.create_engine("sqlite://")
    quiet = sqlalchemy.create_engine("sqlite://")
    sidelog_sqlalchemy.instrument(traced, logger=log, slow_ms=60_000, level="debug")
    sidelog_sqlalchemy.instrument(quiet, logger=log, slow_ms=60_000, level=None)
    statement = sqlalchemy.text("SELECT 1")
    with bare.connect() as plain, traced.connect() as logged, quiet.connect() as unlogged:
        result = _compare(
            lambda: plain.execute(statement).scalar(), lambda: logged.execute(statement).scalar(), n
        )
        result["unlogged_us"] = _compare(
            lambda: plain.execute(statement).scalar(), lambda: unlogged.execute(statement).scalar(), n
        )["added_us"]
    for engine in (bare, traced, quiet):
        engine.dispose()
    return result


if __name__ == "__main__":
    print(json.dumps(integration_overhead(), indent=2))
