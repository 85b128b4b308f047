"""``sidelog_client.integrations.requests`` with the real requests against a local server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from sidelog.engine import Engine
from sidelog_client.integrations import requests as sidelog_requests
from tests.client.conftest import MakeLogger
from tests.client.http_app import broken_logger, closed_url, logged, running_app
from tests.conftest import tcp_port

CALLS = [
    ("GET", "/ok?access_token=t-1&page=2", None),
    ("POST", "/echo", b"card=4242"),
    ("GET", "/slow?ms=500", None),
    ("GET", "/fail", None),
    ("GET", "/redirect", None),
]


def session() -> requests.Session:
    made = requests.Session()
    made.trust_env = False
    made.mount("http://", HTTPAdapter(max_retries=0, pool_maxsize=3))
    return made


async def call(client: requests.Session, method: str, url: str, body: bytes | None) -> tuple[Any, ...]:
    """What the app sees of one call (run on a thread: the server shares this event loop)."""
    response = await asyncio.to_thread(client.request, method, url, data=body, timeout=10)
    return (type(response), response.status_code, response.content, response.headers["x-request-id"])


async def failure(client: requests.Session, url: str) -> tuple[type[BaseException], str]:
    with pytest.raises(requests.RequestException) as raised:
        await asyncio.to_thread(client.get, url, timeout=10)
    return type(raised.value), str(raised.value)


async def test_calls_are_logged_and_the_app_sees_the_same_results(
    engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    plain, traced = session(), session()
    state = sidelog_requests.instrument(traced, logger=log, slow_ms=400)
    adapter = traced.get_adapter("http://example.test/")
    assert adapter.max_retries.total == 0  # the app's adapter settings, still there
    refused = closed_url()
    async with running_app() as app:
        for method, path, body in CALLS:
            assert await call(traced, method, app.url(path), body) == await call(
                plain, method, app.url(path), body
            )
        assert await failure(traced, refused) == await failure(plain, refused)
    plain.close()
    traced.close()

    rows = await logged(log, engine)
    host = app.base.removeprefix("http://")
    assert [(row["level"], row["message"].split(" (slow")[0]) for row in rows] == [
        ("info", f"GET {host}/ok 200"),
        ("info", f"POST {host}/echo 200"),
        ("warn", f"GET {host}/slow 200"),
        ("error", f"GET {host}/fail 503"),
        ("info", f"GET {host}/redirect 302"),
        ("info", f"GET {host}/ok 200"),
        ("error", f"GET {refused.removeprefix('http://')} failed: ConnectionError"),
    ]
    ok, _, slow, fail, *_, down = (row["details"] for row in rows)
    assert ok["query"] == "access_token=[redacted]&page=2"
    assert slow["duration_ms"] >= 490
    assert slow["request_id"] == "req-slow"
    assert fail["request_id"] == "req-fail"
    assert down["error"]["type"] == "ConnectionError"
    assert "card=4242" not in str(rows)
    assert "t-1" not in str(rows)
    assert (state.logged, state.failures) == (7, 0)

    state.remove()
    assert type(traced.get_adapter("http://example.test/")) is HTTPAdapter


async def test_a_hook_that_fails_inside_never_reaches_the_app() -> None:
    plain, traced = session(), session()
    state = sidelog_requests.instrument(traced, logger=broken_logger())
    refused = closed_url()
    async with running_app() as app:
        for method, path, body in CALLS:
            assert await call(traced, method, app.url(path), body) == await call(
                plain, method, app.url(path), body
            )
        assert await failure(traced, refused) == await failure(plain, refused)
    plain.close()
    traced.close()
    assert state.failures == 7
    assert state.last_failure == "RuntimeError: the sidelog hook broke"
