"""The hooks queue a fast call's raw values and the sender builds its event: the same events
as building them on the app's thread, never an exception, nothing queued by a closed logger."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import sqlalchemy
from sqlalchemy import text

from sidelog.engine import Engine
from sidelog_client.config import ClientConfig
from sidelog_client.encode import encode_line
from sidelog_client.integrations import DIRECT, QUIET, VIA_EVENT, fast_mode
from sidelog_client.integrations import aiohttp as sidelog_aiohttp
from sidelog_client.integrations import httpx as sidelog_httpx
from sidelog_client.integrations import requests as sidelog_requests
from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy
from sidelog_client.logger import EventLogger
from tests.client.conftest import MakeLogger, flush, stored
from tests.client.http_app import running_app
from tests.conftest import tcp_port


class Relay(EventLogger):
    """A logger subclass with its own ``event``: the hooks must hand it every call."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        super().event(*args, **kwargs)


def test_each_logger_gets_the_mode_its_event_and_level_call_for() -> None:
    plain = EventLogger("127.0.0.1:9", config=ClientConfig(), enabled=False, level="info")
    relay = Relay("127.0.0.1:9", config=ClientConfig(), enabled=False)
    assert fast_mode(plain, "info") == DIRECT
    assert fast_mode(plain, None) == QUIET
    assert fast_mode(plain, "debug") == QUIET  # dropped by the logger anyway
    assert fast_mode(relay, "debug") == VIA_EVENT


def test_a_deferred_item_that_cannot_be_rendered_still_becomes_one_line() -> None:
    def broken(item: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
        raise ValueError("no such URL")

    line = json.loads(encode_line((3, 1_700_000_000.5, broken, "http", "info", "raw"), "uid-3", "server"))
    assert line["message"] == "(event could not be rendered: ValueError: no such URL)"
    assert (line["id"], line["category"], line["type"], line["timestamp"]) == (
        "uid-3",
        "http",
        "info",
        1_700_000_000_500,
    )
    assert "details" not in line


def _comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must not depend on where an event was built (durations differ from call to call)."""
    result = []
    for row in rows:
        details = {key: value for key, value in row["details"].items() if key != "duration_ms"}
        result.append((row["category"], row["level"], row["message"], details))
    return result


async def _http_calls(kind: str, log: EventLogger, urls: list[str]) -> None:
    if kind == "httpx":
        async with httpx.AsyncClient(trust_env=False) as client:
            sidelog_httpx.instrument(client, logger=log)
            for url in urls:
                await client.get(url)
        with httpx.Client(trust_env=False) as sync_client:
            sidelog_httpx.instrument(sync_client, logger=log)
            for url in urls:
                await asyncio.to_thread(sync_client.get, url)
    elif kind == "requests":
        session = requests.Session()
        session.trust_env = False
        sidelog_requests.instrument(session, logger=log)
        for url in urls:
            await asyncio.to_thread(session.get, url, allow_redirects=False)
    else:
        async with aiohttp.ClientSession(middlewares=[sidelog_aiohttp.middleware(logger=log)]) as session:
            for url in urls:
                async with session.get(url, allow_redirects=False) as response:
                    await response.read()
        config = sidelog_aiohttp.trace_config(logger=log)
        async with aiohttp.ClientSession(trace_configs=[config]) as session:
            for url in urls:
                async with session.get(url, allow_redirects=False) as response:
                    await response.read()


@pytest.mark.parametrize("kind", ["httpx", "requests", "aiohttp"])
async def test_http_events_built_by_the_sender_match_those_built_by_the_hook(
    kind: str, engine: Engine, make_logger: MakeLogger
) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    direct = make_logger(address, source="direct")
    relayed = Relay(address, source="relayed", config=ClientConfig(), batch_interval_ms=10)
    try:
        async with running_app() as app:
            urls = [app.url("/ok?api_key=k-7&page=2"), app.url("/echo"), app.url("/redirect")]
            await _http_calls(kind, direct, urls)
            await _http_calls(kind, relayed, urls)
        assert await flush(direct)
        assert await flush(relayed)
    finally:
        relayed.close(timeout=1.0)
    direct_rows = stored(engine.settings.db, "source = 'direct'")
    relayed_rows = stored(engine.settings.db, "source = 'relayed'")
    assert len(direct_rows) == len(urls) * (1 if kind == "requests" else 2)  # two clients, else one
    assert _comparable(direct_rows) == _comparable(relayed_rows)
    assert direct_rows[0]["details"]["query"] == "api_key=[redacted]&page=2"
    assert "k-7" not in str(direct_rows)


async def test_statement_events_built_by_the_sender_match_those_built_by_the_hook(
    engine: Engine, make_logger: MakeLogger, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    loggers = {"direct": make_logger(address, source="direct")}
    loggers["relayed"] = Relay(address, source="relayed", config=ClientConfig(), batch_interval_ms=10)
    try:
        for name, log in loggers.items():
            db = sqlalchemy.create_engine(f"sqlite:///{tmp_path / name}.db")
            sidelog_sqlalchemy.instrument(db, logger=log)
            with db.begin() as conn:
                conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
                conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "secret-1"}, {"v": "secret-2"}])
                assert conn.execute(text("SELECT count(*) FROM t WHERE v != :v"), {"v": "x"}).scalar() == 2
            db.dispose()
            assert await flush(log)
    finally:
        loggers["relayed"].close(timeout=1.0)
    rows = {name: _comparable(stored(engine.settings.db, f"source = '{name}'")) for name in loggers}
    assert rows["direct"] == rows["relayed"]
    messages = [row[2] for row in rows["direct"]]
    assert {"CREATE t", "INSERT t", "SELECT t"} <= set(messages)
    (insert,) = [row[3] for row in rows["direct"] if row[2] == "INSERT t"]
    assert (insert["executemany"], insert["rowcount"], insert["system"]) == (True, 2, "sqlite")
    assert "secret-1" not in str(rows)


def test_a_closed_logger_queues_nothing_and_the_call_goes_on(make_logger: MakeLogger) -> None:
    log = make_logger("127.0.0.1:9")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"ok")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        state = sidelog_httpx.instrument(client, logger=log)
        assert client.get("http://api.test/a").content == b"ok"
        log.close(timeout=0.2)
        assert client.get("http://api.test/b").content == b"ok"
    assert (state.logged, state.failures) == (1, 0)
