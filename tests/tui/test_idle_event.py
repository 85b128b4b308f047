"""An event sent to an idle app is on screen at once, not after the batch interval."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import tcp_port
from tests.tui.conftest import running_app, until


async def test_an_event_sent_to_an_idle_app_is_shown_before_the_interval(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False, batch_interval_ms=5_000)
    async with running_app(settings) as (app, pilot):
        assert app.engine is not None
        stream = app.query_one(StreamView)
        _, writer = await asyncio.open_connection("127.0.0.1", tcp_port(app.engine))
        writer.write(json.dumps({"message": "alone", "category": "test"}).encode() + b"\n")  # no sync
        await writer.drain()
        # Far within the 5 s interval: the idle writer committed it at once and the stream took it.
        await until(pilot, lambda: [event.message for event in stream.window] == ["alone"], timeout=1.0)
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "alone"
        writer.close()
