"""The HTTP API and the UI's store queries on a PostgreSQL store: the same answers as on SQLite.

One engine with HTTP on a free port per test, on its own database; requests go through
aiohttp's client to the real server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from sidelog.store.timeline import read_group_event, read_timeline


@pytest.fixture
async def http_engine(
    pg_url: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Engine, str]]:
    """An engine on a fresh PostgreSQL database with HTTP on a free port, and its base URL."""
    running = await start_server(make_settings(db=pg_url, http="127.0.0.1:0"))
    engine = running.engine
    address = next(address for kind, address in engine.endpoints if kind == "http")
    yield engine, f"http://{address}"
    await running.stop()


async def test_events_errors_triage_and_health_over_http(http_engine: tuple[Engine, str]) -> None:
    engine, base = http_engine
    batch = [
        {"message": "checkout failed", "category": "api", "level": "error", "sessionId": "s9", "id": "e1"},
        {"message": "checkout failed", "category": "api", "level": "error", "sessionId": "s9", "id": "e2"},
        {"message": "page view", "category": "ui", "level": "info", "sessionId": "s9", "id": "e3"},
    ]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/v1/events?wait=true", json=batch) as response:
            assert response.status < 300, await response.text()
        async with http.post(f"{base}/v1/events?wait=true", json=batch[:1]) as response:
            assert response.status < 300  # a resent id: accepted, not stored again
        async with http.get(f"{base}/v1/events", params={"session": "s9", "level": "error"}) as response:
            events = (await response.json())["events"]
        assert [event["eventId"] for event in events] == ["e2", "e1"]
        async with http.get(f"{base}/v1/errors") as response:
            groups = (await response.json())["errors"]
        assert [(group["message"], group["count"]) for group in groups] == [("checkout failed", 2)]
        fingerprint = groups[0]["fingerprint"]
        async with http.post(f"{base}/v1/errors/{fingerprint}/resolve", json={"note": "fixed"}) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["group"]["status"] == "resolved"
        async with http.get(f"{base}/v1/errors") as response:
            assert (await response.json())["errors"] == []
        async with http.post(f"{base}/v1/errors/{fingerprint}/reopen", json={}) as response:
            assert (await response.json())["group"]["status"] == "unresolved"
        async with http.get(f"{base}/v1/health") as response:
            health = await response.json()
        assert response.status == 200
        assert health["status"] == "ok"
    group, newest = await read_group_event(engine.reader, fingerprint)
    assert group is not None
    assert newest is not None
    assert newest.uid == "e2"
    timeline = await read_timeline(engine.reader, "session", "s9")
    assert [event.uid for event in timeline.events] == ["e1", "e2", "e3"]
