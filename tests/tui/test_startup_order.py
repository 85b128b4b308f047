"""Cold start: the stream shows the store before the counts are read and the endpoints bind,
and a live event in follow mode repaints the stream without re-laying out the screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.server import start_server
from sidelog.tui.widgets.healthbar import HealthBar
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import running_app, send_events, until


async def test_opened_runs_before_the_counts_and_the_binds(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(enable_system_logging=False)
    seen: list[tuple[list[tuple[str, str]], int]] = []

    async def opened(engine: Engine) -> None:
        seen.append((list(engine.endpoints), engine.stored_total))

    running = await start_server(settings, opened=opened)
    try:
        assert seen == [([], 0)]  # nothing bound, nothing counted yet
        assert running.engine.endpoints  # bound once ``opened`` returned
    finally:
        await running.stop()


async def test_counts_are_read_after_opened(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(enable_system_logging=False)
    async with running_app(settings) as (app, _pilot):
        await send_events(app, *({"message": f"m{n}", "category": "early"} for n in range(3)))
    seen: list[int] = []

    async def opened(engine: Engine) -> None:
        seen.append(engine.stored_total)

    running = await start_server(settings, opened=opened)
    try:
        assert seen == [0]
        assert running.engine.stored_total == 3
        assert running.engine.facet_counts()["category"] == {"early": 3}
    finally:
        await running.stop()


async def test_the_app_shows_stored_events_and_says_starting_until_bound(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False)
    async with running_app(settings) as (app, _pilot):
        await send_events(app, {"message": "kept", "category": "early"})
    async with running_app(settings) as (app, pilot):
        stream = app.query_one(StreamView)
        await until(pilot, lambda: [event.message for event in stream.window] == ["kept"])
        bar = app.query_one(HealthBar)
        await until(pilot, lambda: bar.status == "")  # "starting…" went once the endpoints were bound
        assert app.engine is not None
        assert app.engine.stored_total == 1


async def test_a_followed_live_event_lays_out_nothing(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(enable_system_logging=False)
    async with running_app(settings) as (app, pilot):
        stream = app.query_one(StreamView)
        await send_events(app, *({"message": f"m{n}"} for n in range(60)))
        await until(pilot, lambda: len(stream.window) == 60)
        await pilot.pause()
        newest = stream.window[-1]
        assert newest.id is not None
        arrived = replace(newest, id=newest.id + 1, message="newest")
        stream.add_batch(CommittedBatch(stored=[arrived], live_only=[]))
        assert not stream._layout_required  # a repaint of the stream only, no screen layout
        assert stream.virtual_size.height == 61
        assert stream.vertical_scrollbar.window_virtual_size == 61
        assert stream.scroll_y == stream.max_scroll_y  # the newest row is in view
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "newest"
