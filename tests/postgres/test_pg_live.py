"""A viewer attached to a shared PostgreSQL store sees another server's events as they commit.

Two engines on one database, as two processes would be: a server with TCP, and a viewer
with no endpoints (``sidelog --db postgresql://… --tcp off --http off``). What the
server commits reaches the viewer's live subscription through LISTEN/NOTIFY, ids and
order intact, and the viewer's own events are not published twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

from sidelog.config import Settings
from sidelog.events import Event, now_ms
from sidelog.server import start_server
from sidelog.store.pg_live import notices, parse_notice
from tests.conftest import send_lines, tcp_port


def test_notices_name_runs_of_ids_and_stay_under_the_payload_limit() -> None:
    assert notices("w1", [5, 6, 7, 9, 12, 13]) == ["w1 5-7,9-9,12-13"]
    assert parse_notice("w1 5-7,9-9,12-13") == ("w1", [(5, 7), (9, 9), (12, 13)])
    scattered = notices("w1", list(range(0, 20_000, 2)))
    assert len(scattered) > 1
    assert all(len(payload) < 8_000 for payload in scattered)
    runs = [run for payload in scattered for run in parse_notice(payload)[1]]
    assert runs == [(n, n) for n in range(0, 20_000, 2)]


async def test_a_viewer_sees_another_servers_events_live(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    server = await start_server(make_settings(db=pg_url))
    viewer = await start_server(make_settings(db=pg_url, tcp="off"))
    try:
        subscription = viewer.engine.subscribe()
        payload = b"".join(
            orjson.dumps({"message": f"from the server {n}", "category": "live"}) + b"\n" for n in range(30)
        )
        await send_lines(tcp_port(server.engine), payload)
        seen: list[Event] = []
        while len(seen) < 30:
            batch = await asyncio.wait_for(subscription.get(), 5)
            seen.extend(event for event in batch.stored if event.category == "live")
        assert [event.message for event in seen] == [f"from the server {n}" for n in range(30)]
        ids = [event.id for event in seen]
        assert ids == sorted(ids)
        viewer.engine.admit([Event(message="the viewer's own", category="own", received_at=now_ms())], None)
        own = []
        while not own:
            batch = await asyncio.wait_for(subscription.get(), 5)
            own.extend(event for event in batch.stored if event.category == "own")
        assert len(own) == 1
        assert subscription.get_nowait() is None  # published once, by its own writer only
    finally:
        await viewer.stop()
        await server.stop()
