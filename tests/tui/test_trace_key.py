""" "Show this trace" on the event detail screen: the stream keeps the events of that trace,
whichever path brought them, and the filter reads ``?trace=…``."""

from __future__ import annotations

from sidelog.config import Settings
from sidelog.filters import EventFilter
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import running_app, send_events, until

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_t_on_the_detail_screen_filters_the_stream_to_its_trace(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(
            app,
            {
                "message": "browser error",
                "type": "error",
                "details": {"contexts": {"trace": {"trace_id": TRACE}}},
            },
            {"message": "other trace", "traceId": "0af7651916cd43dd8448eb211c80319c"},
            {"message": "no trace"},
            {"message": "server error", "type": "error", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
        )
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 4)
        await pilot.press("enter")  # the newest event, under the cursor while following
        await until(pilot, lambda: type(app.screen).__name__ == "EventDetailScreen")
        await pilot.press("t")
        await until(pilot, lambda: app.flt == EventFilter(trace=TRACE))
        await until(pilot, lambda: [e.message for e in stream.window] == ["browser error", "server error"])
        assert app.flt.to_query_string() == f"?trace={TRACE}"


async def test_no_trace_means_no_such_key(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, {"message": "plain"})
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "EventDetailScreen")
        assert app.screen.check_action("filter_trace", ()) is False
        await pilot.press("t")
        await pilot.pause()
        assert type(app.screen).__name__ == "EventDetailScreen"
        assert app.flt.trace is None
