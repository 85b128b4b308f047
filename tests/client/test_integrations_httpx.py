"""``sidelog_client.integrations.httpx`` with the real httpx, sync and async, against a local server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sidelog.engine import Engine
from sidelog_client.integrations import httpx as sidelog_httpx
from tests.client.conftest import MakeLogger
from tests.client.http_app import broken_logger, closed_url, logged, running_app
from tests.conftest import tcp_port

CALLS = [
    ("GET", "/ok?api_key=k-1&page=2", None),
    ("POST", "/echo", b"card=4242"),
    ("GET", "/slow?ms=500", None),
    ("GET", "/fail", None),
    ("GET", "/redirect", None),
]


def make_client(kind: str, **options: Any) -> httpx.Client | httpx.AsyncClient:
    cls = httpx.AsyncClient if kind == "async" else httpx.Client
    return cls(follow_redirects=True, trust_env=False, **options)


async def call(client: Any, method: str, url: str, body: bytes | None) -> Any:
    """One request; a blocking client runs on a thread (the server shares this event loop)."""
    if isinstance(client, httpx.AsyncClient):
        return await client.request(method, url, content=body)
    return await asyncio.to_thread(client.request, method, url, content=body)


async def close(*clients: httpx.Client | httpx.AsyncClient) -> None:
    for client in clients:
        if isinstance(client, httpx.AsyncClient):
            await client.aclose()
        else:
            client.close()


def seen(response: httpx.Response) -> tuple[Any, ...]:
    """What the app sees of a response."""
    return (type(response), response.status_code, response.content, response.headers["x-request-id"])


async def failure(client: httpx.Client | httpx.AsyncClient, url: str) -> tuple[type[BaseException], str]:
    with pytest.raises(httpx.HTTPError) as raised:
        await call(client, "GET", url, None)
    return type(raised.value), str(raised.value)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_calls_are_logged_and_the_app_sees_the_same_results(
    kind: str, engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    plain, traced = make_client(kind), make_client(kind)
    state = sidelog_httpx.instrument(traced, logger=log, slow_ms=400)
    refused = closed_url()
    async with running_app() as app:
        for method, path, body in CALLS:
            assert seen(await call(traced, method, app.url(path), body)) == seen(
                await call(plain, method, app.url(path), body)
            )
        assert await failure(traced, refused) == await failure(plain, refused)
    await close(plain, traced)

    rows = await logged(log, engine)
    host = app.base.removeprefix("http://")
    assert [(row["level"], row["message"].split(" (slow")[0]) for row in rows] == [
        ("info", f"GET {host}/ok 200"),
        ("info", f"POST {host}/echo 200"),
        ("warn", f"GET {host}/slow 200"),
        ("error", f"GET {host}/fail 503"),
        ("info", f"GET {host}/redirect 302"),  # each hop is a call
        ("info", f"GET {host}/ok 200"),
        (
            "error",
            f"GET {refused.removeprefix('http://').removesuffix('/nothing')}/nothing failed: ConnectError",
        ),
    ]
    ok, _, slow, fail, *_, down = (row["details"] for row in rows)
    assert ok["query"] == "api_key=[redacted]&page=2"
    assert (ok["method"], ok["host"], ok["path"], ok["status"]) == ("GET", host, "/ok", 200)
    assert "request_id" not in ok  # kept for warn and error events only
    assert slow["slow"] is True
    assert slow["duration_ms"] >= 490
    assert slow["request_id"] == "req-slow"
    assert fail["request_id"] == "req-fail"
    assert down["error"]["type"] == "ConnectError"
    assert down["status"] is None
    assert {row["category"] for row in rows} == {"http"}
    assert "card=4242" not in str(rows)  # never a body, never a secret
    assert "k-1" not in str(rows)
    assert (state.logged, state.failures) == (7, 0)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_hook_that_fails_inside_never_reaches_the_app(kind: str) -> None:
    plain, traced = make_client(kind), make_client(kind)
    state = sidelog_httpx.instrument(traced, logger=broken_logger())
    refused = closed_url()
    async with running_app() as app:
        for method, path, body in CALLS:
            assert seen(await call(traced, method, app.url(path), body)) == seen(
                await call(plain, method, app.url(path), body)
            )
        assert await failure(traced, refused) == await failure(plain, refused)
    await close(plain, traced)
    assert state.failures == 7
    assert state.last_failure == "RuntimeError: the sidelog hook broke"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_app_hook_that_raises_still_gets_its_error_and_the_call_is_logged_once(
    kind: str, engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")

    def raise_for_status(response: httpx.Response) -> None:
        response.raise_for_status()

    async def raise_for_status_async(response: httpx.Response) -> None:
        response.raise_for_status()

    hook: Callable[..., Any] = raise_for_status_async if kind == "async" else raise_for_status
    client = make_client(kind, event_hooks={"response": [hook]})
    state = sidelog_httpx.instrument(client, logger=log)
    async with running_app() as app:
        with pytest.raises(httpx.HTTPStatusError, match="503"):
            await call(client, "GET", app.url("/fail"), None)
        state.remove()
        assert client.event_hooks["response"] == [hook]
        assert "send" not in vars(client)
        await call(client, "GET", app.url("/ok"), None)  # not logged: removed
    await close(client)
    (row,) = await logged(log, engine)
    assert (row["level"], row["details"]["status"]) == ("error", 503)
