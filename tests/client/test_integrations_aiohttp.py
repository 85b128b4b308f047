"""``sidelog_client.integrations.aiohttp`` with the real aiohttp client against a local server."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sidelog.engine import Engine
from sidelog_client.integrations import aiohttp as sidelog_aiohttp
from tests.client.conftest import MakeLogger
from tests.client.http_app import broken_logger, closed_url, logged, running_app
from tests.conftest import tcp_port

CALLS = [
    ("GET", "/ok?client_secret=c-1&page=2", None),
    ("POST", "/echo", b"card=4242"),
    ("GET", "/slow?ms=500", None),
    ("GET", "/fail", None),
    ("GET", "/redirect", None),
]


async def call(session: aiohttp.ClientSession, method: str, url: str, body: bytes | None) -> tuple[Any, ...]:
    async with session.request(method, url, data=body) as response:
        return (type(response), response.status, await response.read(), response.headers["x-request-id"])


async def failure(session: aiohttp.ClientSession, url: str) -> tuple[type[BaseException], str]:
    with pytest.raises(aiohttp.ClientError) as raised:
        await call(session, "GET", url, None)
    return type(raised.value), str(raised.value)


@pytest.mark.parametrize("how", ["trace_config", "instrument"])
async def test_calls_are_logged_and_the_app_sees_the_same_results(
    how: str, engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    refused = closed_url()
    async with running_app() as app, aiohttp.ClientSession() as plain:
        if how == "trace_config":
            config = sidelog_aiohttp.trace_config(logger=log, slow_ms=400)
            traced = aiohttp.ClientSession(trace_configs=[config])
            state = config.sidelog
        else:
            traced = aiohttp.ClientSession()
            state = sidelog_aiohttp.instrument(traced, logger=log, slow_ms=400)
        async with traced:
            for method, path, body in CALLS:
                assert await call(traced, method, app.url(path), body) == await call(
                    plain, method, app.url(path), body
                )
            assert await failure(traced, refused) == await failure(plain, refused)
            state.remove()
            await call(traced, "GET", app.url("/ok"), None)  # not logged after remove()

    rows = await logged(log, engine)
    host = app.base.removeprefix("http://")
    assert [(row["level"], row["message"].split(" (slow")[0]) for row in rows] == [
        ("info", f"GET {host}/ok 200"),
        ("info", f"POST {host}/echo 200"),
        ("warn", f"GET {host}/slow 200"),
        ("error", f"GET {host}/fail 503"),
        ("info", f"GET {host}/redirect 302"),
        ("info", f"GET {host}/ok 200"),
        ("error", f"GET {refused.removeprefix('http://')} failed: ClientConnectorError"),
    ]
    ok, _, slow, fail, *_ = (row["details"] for row in rows)
    assert ok["query"] == "client_secret=[redacted]&page=2"
    assert slow["duration_ms"] >= 490
    assert slow["request_id"] == "req-slow"
    assert fail["request_id"] == "req-fail"
    assert "card=4242" not in str(rows)
    # event_uid is random hex plus a counter ("…c-1" happens): look only at what was logged.
    assert "c-1" not in str([{k: v for k, v in row.items() if k != "event_uid"} for row in rows])
    assert (state.logged, state.failures) == (7, 0)


async def test_a_hook_that_fails_inside_never_reaches_the_app() -> None:
    refused = closed_url()
    config = sidelog_aiohttp.trace_config(logger=broken_logger())
    async with (
        running_app() as app,
        aiohttp.ClientSession() as plain,
        aiohttp.ClientSession(trace_configs=[config]) as traced,
    ):
        for method, path, body in CALLS:
            assert await call(traced, method, app.url(path), body) == await call(
                plain, method, app.url(path), body
            )
        assert await failure(traced, refused) == await failure(plain, refused)
    assert config.sidelog.failures == 7
