"""What the cheaper hooks must still do: ``level=None`` logs only slow, 5xx and failed calls
(httpx, requests, aiohttp), aiohttp's client middleware behaves like its trace config, and
SQLAlchemy's statement listener leaves an app's own ``do_execute`` listener working."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import sqlalchemy
from sqlalchemy import event, text

from sidelog.engine import Engine
from sidelog_client.integrations import aiohttp as sidelog_aiohttp
from sidelog_client.integrations import httpx as sidelog_httpx
from sidelog_client.integrations import requests as sidelog_requests
from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy
from tests.client.conftest import MakeLogger
from tests.client.http_app import broken_logger, closed_url, logged, running_app
from tests.conftest import tcp_port

PATHS = ("/ok?token=t-1", "/slow?ms=300", "/fail", "/redirect")


async def calls_through(kind: str, instrument: Any, urls: list[str]) -> list[int | str]:
    """Each URL called once through an instrumented client of ``kind``; what the app saw."""
    seen: list[int | str] = []
    if kind == "httpx":
        async with httpx.AsyncClient(follow_redirects=True, trust_env=False) as client:
            instrument(client)
            for url in urls:
                try:
                    seen.append((await client.get(url)).status_code)
                except httpx.HTTPError as exc:
                    seen.append(type(exc).__name__)
    elif kind == "requests":
        session = requests.Session()
        session.trust_env = False
        instrument(session)
        for url in urls:
            try:
                seen.append((await asyncio.to_thread(session.get, url)).status_code)
            except requests.RequestException as exc:
                seen.append(type(exc).__name__)
    else:
        async with aiohttp.ClientSession() as aio:
            instrument(aio)
            for url in urls:
                try:
                    async with aio.get(url) as response:
                        await response.read()
                        seen.append(response.status)
                except aiohttp.ClientError as exc:
                    seen.append(type(exc).__name__)
    return seen


MODULES = {"httpx": sidelog_httpx, "requests": sidelog_requests, "aiohttp": sidelog_aiohttp}


@pytest.mark.parametrize("kind", ["httpx", "requests", "aiohttp"])
async def test_level_none_logs_only_slow_failing_and_failed_calls(
    kind: str, engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    states = []

    def instrument(client: Any) -> None:
        states.append(MODULES[kind].instrument(client, logger=log, slow_ms=250, level=None))

    async with running_app() as app:
        urls = [app.url(path) for path in PATHS] + [closed_url()]
        seen = await calls_through(kind, instrument, urls)
    assert seen[:4] == [200, 200, 503, 200]
    rows = await logged(log, engine)
    host = app.base.removeprefix("http://")
    assert [(row["level"], row["message"].split(" (slow")[0]) for row in rows[:2]] == [
        ("warn", f"GET {host}/slow 200"),
        ("error", f"GET {host}/fail 503"),
    ]
    assert rows[2]["level"] == "error"
    assert "failed" in rows[2]["message"]
    assert len(rows) == 3  # /ok, /redirect and the hop it led to: fast and fine, not logged
    assert rows[0]["details"]["request_id"] == "req-slow"
    assert (states[0].logged, states[0].failures) == (3, 0)


async def test_the_aiohttp_middleware_never_lets_a_failing_hook_reach_the_app() -> None:
    def instrument(session: Any) -> None:
        states.append(sidelog_aiohttp.instrument(session, logger=broken_logger()))

    states: list[Any] = []
    async with running_app() as app:
        urls = [app.url(path) for path in PATHS] + [closed_url()]
        assert await calls_through("aiohttp", instrument, urls) == [
            200,
            200,
            503,
            200,
            "ClientConnectorError",
        ]
    assert states[0].failures == 6  # five calls, the redirect two hops
    assert states[0].last_failure == "RuntimeError: the sidelog hook broke"


async def test_the_aiohttp_middleware_is_used_when_given_to_the_session(
    engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    middleware = sidelog_aiohttp.middleware(logger=log)
    async with running_app() as app, aiohttp.ClientSession(middlewares=[middleware]) as session:
        response = await session.get(app.url("/ok?api_key=k-9"))
        assert await response.text() == "ok answer"
    (row,) = await logged(log, engine)
    assert row["details"]["query"] == "api_key=[redacted]"
    assert middleware.sidelog.logged == 1


def test_an_apps_own_do_execute_listener_still_runs(tmp_path: Path) -> None:
    db = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    seen: list[str] = []

    @event.listens_for(db, "do_execute")
    def app_listener(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        seen.append(statement)
        return False  # only watching: SQLAlchemy (or the next listener) runs it

    state = sidelog_sqlalchemy.instrument(db, logger=broken_logger())
    with db.connect() as conn:
        assert conn.execute(text("SELECT :x + 1"), {"x": 41}).scalar() == 42
    assert seen == ["SELECT ? + 1"]
    assert state.failures == 1  # the statement reached sidelog's listener too (its logger raised)
    state.remove()
    with db.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
    assert state.failures == 1
