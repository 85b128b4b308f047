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
- ``aiohttp``: ``session.get`` against an aiohttp server on loopback, keep-alive
  (aiohttp has no in-process transport, so this figure is the noisiest); the server
  runs in a child process, as the API an app calls does, so its work is not counted
  against the client and it never takes the client's GIL (on the client's loop it
  was counted on both sides of a pair: no bias, but noise; on a thread of the client's
  process its turns with the GIL landed inside the client's calls), on a session
  given ``instrument`` (the client middleware) and, as ``trace_config_us``, one
  given ``trace_config``; without the socket's noise,
  ``middleware_hooks_us`` is the middleware run as aiohttp runs it for one hop (the
  chain built per request, then awaited) and ``trace_config_hooks_us`` the tracing work
  aiohttp does for one request with the trace config (``Trace`` objects, the request
  start/reuse/end signals, awaited as ``ClientSession._request`` awaits them), each
  against the bare handler or nothing;
- ``sqlalchemy``: ``SELECT 1`` on an in-memory SQLite engine, every statement logged
  (``level="debug"``), and ``unlogged_us``: the same with ``level=None`` (only slow
  and failed statements become events, the usual production setting).

Each call is timed on its own by the CPU time of the calling thread
(``time.thread_time_ns``: what the call makes this thread do, not how long another
process kept it waiting), calls of the two clients alternating; the added cost is the
median of the differences of adjacent calls, ``added_iqr_us`` their interquartile
range and ``added_ci95_us`` a 95 % confidence interval of that median
(``bench/paired.py`` says why single calls, not the batches of ten timed before). The
median is the typical call; what the hooks hand to the sender thread is reported
beside it: ``background_us``, the sender thread's CPU time to turn one of the hook's
events into its wire line (building the message and details the hook queued as raw
values, redacting, encoding JSON). It costs the app's thread only while the two
contend for the GIL (an app waiting on the network lets the sender run). The logger
sends to a local listener that acknowledges like sidelog, so its sender thread runs
meanwhile. A library that is not installed is reported as ``None``.
On a loaded machine every figure grows alike: ``reference_event_us`` (one
``EventLogger.event`` in thread CPU time, the median of measurements taken before each
library and at the end; about 0.3 µs on an idle machine) says by how much
(``machine_slowdown``), and ``worst_added_us_at_reference_speed`` scales the worst
figure back: an estimate, since a busy machine also evicts caches, which costs the
hooks (called between the library's own code) more than the reference.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sidelog.bench.client_cost import _acking_listener
from sidelog.bench.paired import compare, sender_cost
from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger

TARGET_US = 5.0
EVENT_US_IDLE = 0.3
"""``EventLogger.event`` on an idle machine (README, "Client libraries"): the speed reference."""
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


def _httpx(log: EventLogger, n: int) -> dict[str, Any]:
    import httpx

    from sidelog_client.integrations import httpx as sidelog_httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"x-request-id": "r-1"}, content=b"ok")

    def client(logger: EventLogger | None = None) -> httpx.Client:
        made = httpx.Client(transport=httpx.MockTransport(answer))
        if logger is not None:
            sidelog_httpx.instrument(made, logger=logger, slow_ms=60_000)
        clients.append(made)
        return made

    clients: list[httpx.Client] = []
    plain, traced = client(), client(log)
    try:
        result = compare(lambda: plain.get(URL), lambda: traced.get(URL), n)
        result["background_us"] = sender_cost(lambda logger: partial(client(logger).get, URL))
        return result
    finally:
        for made in clients:
            made.close()


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

    def session(logger: EventLogger | None = None) -> requests.Session:
        made = requests.Session()
        made.trust_env = False
        made.mount("http://", Memory())
        if logger is not None:
            sidelog_requests.instrument(made, logger=logger, slow_ms=60_000)
        return made

    plain, traced = session(), session(log)
    result = compare(lambda: plain.get(URL), lambda: traced.get(URL), n)
    result["background_us"] = sender_cost(lambda logger: partial(session(logger).get, URL))
    return result


def _aiohttp(log: EventLogger, n: int) -> dict[str, Any]:
    import aiohttp

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp

    # The server is another process, as the API an app calls is: its work is not the
    # client's, and it never holds the client's GIL (on a thread of this process it did).
    server = subprocess.Popen(
        [sys.executable, "-c", _AIOHTTP_SERVER], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert server.stdout is not None
    port = int(server.stdout.readline() or 0)
    if not port:
        server.kill()
        server.wait(30)
        server.stdout.close()
        raise RuntimeError("the aiohttp test server did not start")
    url = f"http://127.0.0.1:{port}/v1/items?page=2&api_key=k"

    loop = asyncio.new_event_loop()

    async def sessions() -> list[aiohttp.ClientSession]:
        plain, instrumented = aiohttp.ClientSession(), aiohttp.ClientSession()
        sidelog_aiohttp.instrument(instrumented, log, slow_ms=60_000)  # the middleware (aiohttp ≥ 3.12)
        config = sidelog_aiohttp.trace_config(log, slow_ms=60_000)
        return [plain, instrumented, aiohttp.ClientSession(trace_configs=[config])]

    async def get(session: aiohttp.ClientSession, url: str) -> None:
        async with session.get(url) as response:
            await response.read()

    count = max(n // 2, 200)
    plain, instrumented, traced = loop.run_until_complete(sessions())
    try:
        result = compare(
            lambda: loop.run_until_complete(get(plain, url)),
            lambda: loop.run_until_complete(get(instrumented, url)),
            count,
        )
        result["hook"] = "middleware" if getattr(instrumented, "_middlewares", ()) else "trace_config"
        result["trace_config_us"] = compare(
            lambda: loop.run_until_complete(get(plain, url)),
            lambda: loop.run_until_complete(get(traced, url)),
            count,
        )["added_us"]
        result["middleware_hooks_us"] = _aiohttp_middleware(log, loop, n)["added_us"]
        result["background_us"] = sender_cost(
            lambda logger: partial(loop.run_until_complete, _aiohttp_hop(logger))
        )
        result["trace_config_hooks_us"] = _aiohttp_tracing(log, loop, n)["added_us"]
    finally:
        for session in (plain, instrumented, traced):
            loop.run_until_complete(session.close())
        loop.close()
        server.terminate()
        server.wait(30)
        server.stdout.close()
    return result


_AIOHTTP_SERVER = """
import socket
from aiohttp import web

async def answer(request):
    return web.Response(body=b"ok", headers={"x-request-id": "r-1"})

app = web.Application()
app.router.add_get("/v1/items", answer)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
web.run_app(app, sock=listener, access_log=None, print=None, handle_signals=True)
"""
"""The aiohttp figure's server: answers ``GET /v1/items`` with ``ok`` and a request id."""


async def _aiohttp_hop(log: EventLogger) -> None:
    """One hop through a new sidelog middleware logging to ``log`` (for ``background_us``)."""
    from types import SimpleNamespace

    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL as YarlURL

    from sidelog_client.integrations import aiohttp as sidelog_aiohttp

    response = SimpleNamespace(status=200, headers=CIMultiDictProxy(CIMultiDict({"x-request-id": "r-1"})))

    async def handler(request: Any) -> Any:
        return response

    middleware = sidelog_aiohttp.middleware(log, slow_ms=60_000)
    await middleware(SimpleNamespace(method="GET", url=YarlURL(URL)), handler)


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

    return compare(lambda: loop.run_until_complete(plain()), lambda: loop.run_until_complete(traced()), n)


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

    return compare(lambda: loop.run_until_complete(nothing()), lambda: loop.run_until_complete(traced()), n)


def _sqlalchemy(log: EventLogger, n: int) -> dict[str, Any]:
    import sqlalchemy

    from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy

    bare = sqlalchemy.create_engine("sqlite://")
    traced = sqlalchemy.create_engine("sqlite://")
    quiet = sqlalchemy.create_engine("sqlite://")
    sidelog_sqlalchemy.instrument(traced, logger=log, slow_ms=60_000, level="debug")
    sidelog_sqlalchemy.instrument(quiet, logger=log, slow_ms=60_000, level=None)
    statement = sqlalchemy.text("SELECT 1")

    def one_statement(logger: EventLogger) -> Callable[[], Any]:
        engine = sqlalchemy.create_engine("sqlite://")
        sidelog_sqlalchemy.instrument(engine, logger=logger, slow_ms=60_000, level="debug")

        def run() -> None:
            with engine.connect() as conn:
                conn.execute(statement).scalar()

        return run

    with bare.connect() as plain, traced.connect() as logged, quiet.connect() as unlogged:
        result = compare(
            lambda: plain.execute(statement).scalar(), lambda: logged.execute(statement).scalar(), n
        )
        result["unlogged_us"] = compare(
            lambda: plain.execute(statement).scalar(), lambda: unlogged.execute(statement).scalar(), n
        )["added_us"]
    result["background_us"] = sender_cost(one_statement)
    for engine in (bare, traced, quiet):
        engine.dispose()
    return result


if __name__ == "__main__":
    print(json.dumps(integration_overhead(), indent=2))
