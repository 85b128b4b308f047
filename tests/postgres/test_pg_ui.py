"""The terminal UI attached to a shared PostgreSQL store, with no endpoints of its own.

``sidelog --db postgresql://… --tcp off --http off``: the stream shows what another
server commits to the database, as it commits (LISTEN/NOTIFY, store/pg_live.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

from sidelog.config import Settings
from sidelog.server import start_server
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import running_app, until


async def test_a_ui_with_no_endpoints_shows_another_servers_events_live(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    server = await start_server(make_settings(db=pg_url, enable_system_logging=False))
    viewer = make_settings(db=pg_url, tcp="off", enable_system_logging=False)
    try:
        async with running_app(viewer) as (app, pilot):
            stream = app.query_one(StreamView)
            payload = b"".join(orjson.dumps({"message": f"remote {n}"}) + b"\n" for n in range(3))
            loop = asyncio.get_running_loop()
            sent = loop.time()
            await send_lines(tcp_port(server.engine), payload)
            await until(
                pilot,
                lambda: [event.message for event in stream.window] == ["remote 0", "remote 1", "remote 2"],
            )
            print(f"shown {loop.time() - sent:.3f} s after sending")  # measured, not asserted
    finally:
        await server.stop()
