"""The histogram above the stream: it follows the filter, counts live events, zooms, jumps to
error spikes, hides, and stays sane over an empty store, odd timestamps and no width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult

from sidelog.config import Settings
from sidelog.store.histogram import DEFAULT_ZOOM, ZOOM_STEPS_MS
from sidelog.timespec import MAX_MS
from sidelog.tui.app import SidelogApp
from sidelog.tui.widgets.histogram import HistogramBar, column_cells
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import running_app, send_events, until

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
NOW = T0 + 60 * MIN - 1  # one-minute columns: the newest holds T0 + 59 min


def at(minute: int, level: str = "info", **fields: Any) -> dict[str, Any]:
    return {
        "message": f"{level} at {minute}",
        "type": level,
        "category": "shop",
        "ts": T0 + minute * MIN,
        **fields,
    }


def bar_of(app: SidelogApp) -> HistogramBar:
    return app.query_one(HistogramBar)


def lines(bar: HistogramBar) -> list[str]:
    return [bar.render_line(y).text for y in range(bar.size.height)]


async def counted(pilot: Any, bar: HistogramBar, after: int) -> None:
    """Wait for a count newer than ``after`` to land."""
    await until(pilot, lambda: bar.counts_done > after and bar.histogram is not None)


async def test_counts_follow_the_filter_and_live_events_arrive_without_a_recount(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, at(50), at(50, "error"), at(51, "warn"), at(51, "error", category="pay"))
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == 4)
        histogram = bar.histogram
        assert histogram is not None
        first = histogram.window.bucket_of(T0 + 50 * MIN)
        assert first is not None
        assert histogram.counts["error"][first : first + 2] == [1, 1]
        await until(pilot, lambda: "1m/col" in lines(bar)[-1])  # drawn on the next refresh

        done = bar.counts_done
        await pilot.press("4")  # errors only: counted afresh under the new filter
        await counted(pilot, bar, done)
        assert bar.histogram is not None
        assert bar.histogram.total == 2
        assert sum(bar.histogram.counts["info"]) == 0

        done = bar.counts_done
        await send_events(app, at(52, "error"), at(52, "info"))  # the info does not match
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == 3)
        assert bar.counts_done == done  # added from the live feed, not counted again
        assert bar.histogram.counts["error"][first + 2] == 1


async def test_n_jumps_to_each_error_spike_and_the_stream_shows_it(settings: Settings) -> None:
    events = [at(minute) for minute in range(20, 58, 2)]
    events += [at(30, "error", message=f"boom {n}") for n in range(4)]
    events += [at(45, "error", message=f"crash {n}") for n in range(5)]
    events.append(at(50, "error", message="lone"))
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, *events)
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == len(events))

        await pilot.press("n")  # from the left edge: the oldest spike
        await until(pilot, lambda: app.flt.since == T0 + 30 * MIN)
        assert app.flt.until == T0 + 31 * MIN
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 5)  # the spike's four errors and its info
        assert {event.message for event in stream.window if event.level == "error"} == {
            f"boom {n}" for n in range(4)
        }

        await pilot.press("n")
        await until(pilot, lambda: app.flt.since == T0 + 45 * MIN)
        await pilot.press("n")  # the lone error at 50 is below half the peak: no spike
        await pilot.pause(0.1)
        assert app.flt.since == T0 + 45 * MIN
        await pilot.press("N")
        await until(pilot, lambda: app.flt.since == T0 + 30 * MIN)
        assert bar.histogram is not None
        assert bar.histogram.total == len(events)  # the range is context: every bucket still counted


async def test_zoom_keys_step_the_bucket_size_and_stop_at_the_ends(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, at(10), at(59))
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == 2)
        await pilot.press("minus")
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.window.bucket_ms == 5 * MIN)
        await pilot.press("plus", "plus")
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.window.bucket_ms == 15_000)
        assert bar.zoom == DEFAULT_ZOOM - 1
        for _ in ZOOM_STEPS_MS:
            await pilot.press("plus")
        assert bar.zoom == 0
        await until(pilot, lambda: any("finest zoom" in n.message for n in app._notifications))


async def test_h_hides_and_shows_the_histogram(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, at(40))
        await until(pilot, lambda: bar.histogram is not None and bar.size.height == 3)
        stream = app.query_one(StreamView)
        height = stream.size.height
        await pilot.press("h")
        await until(pilot, lambda: not bar.display and stream.size.height > height)
        await pilot.press("h")
        await until(
            pilot, lambda: bar.display and bar.size.height == 3 and stream.region.y == bar.region.bottom
        )


async def test_an_empty_store_is_one_line_saying_so(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await until(pilot, lambda: bar.histogram is not None and bar.size.height == 1)
        await until(pilot, lambda: lines(bar)[0].startswith("histogram: no events stored yet"))
        await pilot.press("n")
        await until(pilot, lambda: any("No later error spike" in n.message for n in app._notifications))
        assert app.flt.since is None


async def test_an_empty_range_says_which_filter_hid_everything(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, at(40))
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == 1)
        await pilot.press("4")
        await until(
            pilot, lambda: bar.histogram is not None and bar.histogram.total == 0 and bar.size.height == 1
        )
        await until(pilot, lambda: "no events match the filter" in lines(bar)[0])
        assert "c clears filters" in lines(bar)[0]


async def test_far_future_and_far_past_events_stay_out_of_the_window(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(
            app, at(55, "error"), {"message": "y9999", "ts": MAX_MS - 1}, {"message": "1970", "ts": 1}
        )
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.later == 1)
        histogram = bar.histogram
        assert histogram is not None
        assert histogram.total == 1
        assert histogram.window.end <= NOW + MIN  # not stretched to the year 9999
        await until(pilot, lambda: "1 dated later" in lines(bar)[-1])


async def test_the_keys_do_nothing_while_the_event_detail_covers_the_stream(settings: Settings) -> None:
    async with running_app(settings, clock=lambda: NOW) as (app, pilot):
        bar = bar_of(app)
        await send_events(app, *(at(30, "error") for _ in range(3)))
        await until(pilot, lambda: bar.histogram is not None and bar.histogram.total == 3)
        await pilot.press("enter")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("n", "minus")
        await pilot.pause(0.1)
        assert app.flt.since is None
        assert bar.zoom == DEFAULT_ZOOM


class _NoRoom(App[None]):
    """The histogram squeezed to no width at all."""

    CSS = "HistogramBar { width: 0; }"

    def compose(self) -> ComposeResult:
        yield HistogramBar(id="histogram")


async def test_no_width_draws_nothing_and_raises_nothing() -> None:
    app = _NoRoom()
    async with app.run_test(size=(40, 5)) as pilot:
        bar = app.query_one(HistogramBar)
        await pilot.pause()
        assert bar.size.width == 0
        assert bar.render_line(0).text == ""
        assert bar.spike_range(1) is None
        bar.zoom_by(1)
        await pilot.pause()


def test_a_column_stacks_errors_at_the_bottom_and_shows_a_lone_error() -> None:
    cells = column_cells({"error": 1, "info": 99}, peak=100)
    assert cells[0].colour == "$error"  # a full cell: the error's eighth on the info colour
    assert cells[0].background == "$primary"
    assert cells[0].char == "▁"
    assert cells[1].char == "█"
    assert column_cells({}, peak=0)[0].char == " "
    half: Callable[[], list[str]] = lambda: [cell.char for cell in column_cells({"warn": 4}, peak=8)]  # noqa: E731
    assert half() == ["█", " "]
