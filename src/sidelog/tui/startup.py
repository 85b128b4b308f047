"""The UI's cold start: the newest events on screen before the rest of start-up runs.

Over a million stored events most of start-up is not needed to show them: reading the
facet counts scans every event once, and the HTTP endpoint loads aiohttp. So the app
starts the server with an ``opened`` step (``sidelog.server.start_server``): as soon as
the store is readable, ``show_newest`` mounts the stream in place of the placeholder and
returns once its newest page has been drawn; only then are the counts read and the
endpoints bound. The health bar says "starting…" until they are (its initial status),
and the sidebar's counts, the error groups and the health figures follow from there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.widget import Widget

from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.tui.widgets.stream import StreamView

INITIAL_LOAD = "stream-initial"
"""The stream's worker that reads its first page (``StreamView.on_mount``)."""


async def show_newest(app: App[Any], engine: Engine, *, clock: Callable[[], int], flt: EventFilter) -> None:
    """Mount the stream over ``engine`` in place of ``#stream-placeholder``, under ``flt``;
    return once its first page has been read and a frame drawn after it."""
    placeholder = app.query_one("#stream-placeholder")
    stream = StreamView(engine, clock=clock, id="stream")
    parent = placeholder.parent
    assert isinstance(parent, Widget)
    await parent.mount(stream, after=placeholder)
    await placeholder.remove()
    stream.focus()
    if not flt.is_empty:
        await stream.set_filter(flt)
    for worker in [w for w in app.workers if w.node is stream and w.name == INITIAL_LOAD]:
        with contextlib.suppress(Exception):  # a failed read is shown by the stream itself
            await worker.wait()
    drawn = asyncio.Event()
    stream.call_after_refresh(drawn.set)
    with contextlib.suppress(TimeoutError):  # never hold start-up for a frame that does not come
        await asyncio.wait_for(drawn.wait(), 1.0)


__all__ = ["show_newest"]
