"""The UI's cold start: the newest events on screen before the rest of start-up runs.

Over a million stored events most of start-up is not needed to show them. So the app's
first frame (``SidelogApp.compose``) is made of light modules only: the newest page read
with plain ``sqlite3`` (``store/first_page.py``) drawn by ``FirstPage`` where the stream
goes, and stand-ins holding the places of the errors pane and the histogram, whose
modules load SQLAlchemy. Once that frame is on screen (Textual's ``Ready``) the
``engine-start`` worker imports this module, and with it the engine's side:

1. ``mount_panes`` puts the errors pane and the histogram in their stand-ins' places,
   in one frame;
2. the server starts with an ``opened`` step (``sidelog.server.start_server``): as soon
   as the store is readable, ``show_newest`` mounts the stream in place of the first
   page and returns once its newest page has been drawn; only then are the facet counts
   read (a scan of every event) and the endpoints bound (aiohttp). The health bar says
   "starting…" until they are, and the sidebar's counts, the error groups and the health
   figures follow from there.

The swaps run inside ``batch_update``: nothing reaches the terminal between removing a
stand-in and drawing its pane, so a pane never blinks and the rows do not move.
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
from sidelog.tui.intervals import Intervals
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.histogram import HistogramBar
from sidelog.tui.widgets.stream import StreamView

INITIAL_LOAD = "stream-initial"
"""The stream's worker that reads its first page (``StreamView.on_mount``)."""
FIRST_PAGE_IDS = "#first-page, #stream-placeholder"
"""What holds the stream's place until it is mounted: the first page, or (no rows to
show early) the "starting sidelog…" line."""
LOAD_WAIT_S = 2.0
"""Longest the screen keeps the first page while the stream reads its own (a slow read
then shows the stream as it is rather than freezing the screen)."""


async def mount_panes(app: App[Any], *, clock: Callable[[], int], intervals: Intervals) -> None:
    """Put the histogram and the errors pane where their stand-ins hold their places."""
    panes: list[Widget] = [
        HistogramBar(clock=clock, refresh_every=intervals.counts, id="histogram"),
        ErrorsPane(clock=clock, reload_every=intervals.errors_reload, ages_every=intervals.ages, id="errors"),
    ]
    with app.batch_update():
        for pane in panes:
            await _replace(app.query_one(f"#{pane.id}"), pane)


async def show_newest(app: App[Any], engine: Engine, *, clock: Callable[[], int], flt: EventFilter) -> None:
    """Mount the stream over ``engine`` in place of the first page, under ``flt``; return
    once its first page has been read and a frame drawn after it."""
    stream = StreamView(engine, clock=clock, id="stream")
    with app.batch_update():  # the first page stays on screen until the stream has its rows
        await _replace(app.query(FIRST_PAGE_IDS).first(), stream)
        stream.focus()
        if not flt.is_empty:
            await stream.set_filter(flt)
        for worker in [w for w in app.workers if w.node is stream and w.name == INITIAL_LOAD]:
            with contextlib.suppress(Exception):  # a failed or slow read is shown by the stream itself
                await asyncio.wait_for(worker.wait(), LOAD_WAIT_S)
    drawn = asyncio.Event()
    stream.call_after_refresh(drawn.set)
    with contextlib.suppress(TimeoutError):  # never hold start-up for a frame that does not come
        await asyncio.wait_for(drawn.wait(), 1.0)


async def _replace(old: Widget, new: Widget) -> None:
    """Mount ``new`` at ``old``'s place in its parent (``new`` may take over its id)."""
    parent = old.parent
    assert isinstance(parent, Widget)
    index = parent.children.index(old)
    await old.remove()
    if index < len(parent.children):
        await parent.mount(new, before=index)
    else:
        await parent.mount(new)


__all__ = ["mount_panes", "show_newest"]
