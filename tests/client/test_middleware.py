"""Request middleware around real tiny apps: a raw ASGI callable, and WSGI behind wsgiref."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from sidelog.engine import Engine
from sidelog_client import SidelogASGIMiddleware, SidelogWSGIMiddleware
from tests.client.conftest import MakeLogger, flush, stored, wait_until
from tests.conftest import tcp_port

# --------------------------------------------------------------------------- ASGI


async def shop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app: /ok answers 200, /missing 404, /broken 503, /crash raises after starting."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        return
    await receive()
    path = scope["path"]
    status = {"/ok": 200, "/missing": 404, "/broken": 503}.get(path, 200)
    if path == "/crash":
        raise LookupError(f"no product for {scope['query_string'].decode()}")
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


async def call(app: Any, path: str, query: bytes = b"", method: str = "GET") -> list[dict[str, Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"localhost:8000"), (b"user-agent", b"pytest")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return requests.pop(0) if requests else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_asgi_requests_become_events(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    app = SidelogASGIMiddleware(shop, logger=log, slow_ms=10_000)

    sent = await call(app, "/ok", b"page=2", method="POST")
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]  # untouched
    await call(app, "/missing")
    await call(app, "/broken")
    with pytest.raises(LookupError, match="no product for id=7"):
        await call(app, "/crash", b"id=7")
    assert await flush(log)

    ok, missing, broken, crash = stored(engine.settings.db)
    assert (ok["message"], ok["level"], ok["category"], ok["source"]) == (
        "POST /ok 200",
        "info",
        "api",
        "middleware",
    )
    assert ok["url"] == "http://localhost:8000/ok?page=2"
    details = ok["details"]
    assert (details["method"], details["path"], details["status"], details["query"]) == (
        "POST",
        "/ok",
        200,
        "page=2",
    )
    assert 0 <= details["duration_ms"] < 10_000
    assert details["user_agent"] == "pytest"
    assert (missing["message"], missing["level"]) == ("GET /missing 404", "info")
    assert (broken["message"], broken["level"]) == ("GET /broken 503", "error")
    assert crash["level"] == "error"
    assert crash["source"] == "middleware"
    assert crash["message"] == "LookupError: no product for id=7"
    assert crash["details"]["status"] == 500
    assert crash["details"]["path"] == "/crash"
    assert crash["details"]["exception"]["type"] == "LookupError"
    assert "in shop" in crash["details"]["exception"]["stack"]


async def test_asgi_slow_requests_are_warnings_and_other_scopes_pass_through(
    engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    app = SidelogASGIMiddleware(shop, logger=log, slow_ms=0)  # every request counts as slow
    await call(app, "/ok")
    lifespan_sent: list[MutableMapping[str, Any]] = []
    startup: list[MutableMapping[str, Any]] = [{"type": "lifespan.startup"}]

    async def receive() -> MutableMapping[str, Any]:
        return startup.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        lifespan_sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert lifespan_sent == [{"type": "lifespan.startup.complete"}]
    assert await flush(log)
    (slow,) = stored(engine.settings.db)
    assert slow["level"] == "warn"
    assert slow["message"].startswith("GET /ok 200 (slow: ")
    assert slow["details"]["slow"] is True


async def test_asgi_cancelled_request_is_logged_and_cancellation_propagates(
    engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    started = asyncio.Event()

    async def hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(call(SidelogASGIMiddleware(hangs, logger=log), "/hang"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await flush(log)
    (row,) = stored(engine.settings.db)
    assert row["message"] == "GET /hang -"
    assert row["details"]["cancelled"] is True


# --------------------------------------------------------------------------- WSGI


def catalogue(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A WSGI app: /ok, /stream (a generator body), /crash (raises before responding)."""
    path = environ["PATH_INFO"]
    if path == "/crash":
        raise ZeroDivisionError("price per unit with 0 units")
    start_response("200 OK", [("Content-Type", "text/plain")])
    if path == "/stream":
        return (chunk for chunk in (b"a", b"b", b"c"))
    return [b"ok"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wsgi_server(make_logger: MakeLogger, engine: Engine) -> Iterator[str]:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    app = SidelogWSGIMiddleware(catalogue, logger=log, slow_ms=10_000)
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


async def test_wsgi_requests_become_events(
    engine: Engine, wsgi_server: str, make_logger: MakeLogger, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(fetch, f"{wsgi_server}/ok?q=shoes") == (200, b"ok")
    assert await asyncio.to_thread(fetch, f"{wsgi_server}/stream") == (200, b"abc")
    status, _ = await asyncio.to_thread(fetch, f"{wsgi_server}/crash")
    assert status == 500  # the exception reached wsgiref, which answered 500 as usual
    assert "ZeroDivisionError" in capsys.readouterr().err  # ... and printed it

    await wait_until(lambda: len(stored(engine.settings.db)) == 3)
    ok, stream, crash = stored(engine.settings.db)
    assert (ok["message"], ok["level"], ok["source"], ok["category"]) == (
        "GET /ok 200",
        "info",
        "middleware",
        "api",
    )
    assert ok["url"] == f"{wsgi_server}/ok?q=shoes"
    assert ok["details"]["query"] == "q=shoes"
    assert ok["details"]["duration_ms"] >= 0
    assert stream["message"] == "GET /stream 200"
    assert crash["level"] == "error"
    assert crash["message"] == "ZeroDivisionError: price per unit with 0 units"
    assert crash["details"]["status"] == 500
    assert crash["details"]["method"] == "GET"
    assert "in catalogue" in crash["details"]["exception"]["stack"]


def test_wsgi_error_while_streaming_is_logged_and_raised(make_logger: MakeLogger) -> None:
    from wsgiref.util import setup_testing_defaults

    log = make_logger("127.0.0.1:9", batch_interval_ms=60_000)

    def broken_stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"first"
        raise OSError("disk went away")

    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    body = SidelogWSGIMiddleware(broken_stream, logger=log)(environ, lambda *args: None)
    chunks: list[bytes] = []

    def consume() -> None:
        chunks.extend(body)

    with pytest.raises(OSError, match="disk went away"):
        consume()
    body.close()  # type: ignore[attr-defined]
    assert chunks == [b"first"]
    assert log.stats()["buffered"] == 1  # one event (the error), not a second one on close
