"""The stream's time column: dates for other days, ages on ``t``, a sender's clock ahead of ours."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from rich.style import Style
from textual.app import App, ComposeResult

from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.tui import humanize
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.stream_rows import COMPONENTS, TimeFormat, render_row
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import until

NOW = 1_764_503_999_000  # 2025-11-30 11:59:59 UTC
MINUTE, DAY = 60_000, 86_400_000
STYLES = {name: Style() for name in COMPONENTS} | {"base": Style(), "cursor": Style(reverse=True)}


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC whatever the machine's zone, so the expected strings hold."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Clock:
    """A clock the test moves."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class TimesApp(App[None]):
    """The stream alone, over the test's engine, with the test's clock."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        super().__init__()
        self.engine, self.clock = engine, clock

    def compose(self) -> ComposeResult:
        yield StreamView(self.engine, clock=self.clock, id="stream")


def _rows(stream: StreamView) -> list[str]:
    rows = ["".join(segment.text for segment in stream.render_line(y)) for y in range(stream.size.height)]
    return [row for row in rows if row.strip()]


def test_clock_times_carry_as_much_date_as_needed() -> None:
    assert humanize.clock(NOW) == "11:59:59.000"
    assert humanize.clock(NOW - 3 * DAY + 123, level=humanize.MONTH_DAY) == "Nov 27 11:59:59.123"
    assert humanize.clock(NOW - 400 * DAY, level=humanize.FULL_DATE, millis=False) == "2024-10-26 11:59:59"
    assert humanize.date_level(NOW - MINUTE, NOW) == humanize.TIME_ONLY
    assert humanize.date_level(NOW - 3 * DAY, NOW) == humanize.MONTH_DAY
    assert humanize.date_level(NOW + DAY, NOW) == humanize.MONTH_DAY  # tomorrow is not today either
    assert humanize.date_level(NOW - 400 * DAY, NOW) == humanize.FULL_DATE
    assert humanize.relative(NOW - 3 * MINUTE, NOW) == "3m ago"
    assert humanize.relative(NOW + 2 * MINUTE, NOW) == "in 2m"
    assert humanize.relative(NOW + 500, NOW) == "now"


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
@pytest.mark.parametrize(
    "fmt",
    [TimeFormat(), TimeFormat(level=humanize.MONTH_DAY), TimeFormat(level=2), TimeFormat(True, now_ms=NOW)],
)
def test_every_time_format_fills_exactly_the_row(width: int, fmt: TimeFormat) -> None:
    event = Event(message="m", level="error", timestamp=NOW - 3 * DAY, user_id="u")
    strip = render_row(event, width, STYLES, selected=False, times=fmt)
    assert strip.cell_length == width
    text = "".join(segment.text for segment in strip)
    expected = {False: "Nov 27" if fmt.level == 1 else "2025-11-27" if fmt.level == 2 else "11:59:59"}
    assert (" 3d ago" if fmt.relative else expected[False]) in text


async def test_other_days_show_their_date_and_t_shows_ages(engine: Engine) -> None:
    events = [
        {"message": "three days ago", "ts": NOW - 3 * DAY, "category": "days"},
        {"message": "three minutes ago", "ts": NOW - 3 * MINUTE, "category": "days"},
        {"message": "ahead of our clock", "ts": NOW + 2 * MINUTE, "category": "days"},
        {"message": "today only", "ts": NOW - 5 * MINUTE, "category": "today"},
    ]
    await send_lines(tcp_port(engine), b"".join(json.dumps(event).encode() + b"\n" for event in events))
    clock = Clock(NOW)
    app = TimesApp(engine, clock)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"today"})))
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.pause()
        (row,) = _rows(stream)
        assert row.startswith("11:54:59.000 INFO ")  # every row on screen is today's: no date

        await stream.set_filter(EventFilter(categories=frozenset({"days"})))
        await until(pilot, lambda: len(stream.window) == 3)
        await pilot.pause()
        rows = _rows(stream)
        assert rows[0].startswith("Nov 27 11:59:59.000 INFO ")
        assert rows[1].startswith("Nov 30 11:56:59.000 INFO ")  # today's too, so columns align
        assert rows[2].startswith("Nov 30 12:01:59.000 INFO ")
        assert len({row.index("three") if "three" in row else row.index("ahead") for row in rows}) == 1

        await pilot.press("t")
        await until(pilot, lambda: _rows(stream)[0].startswith("  3d ago INFO "))
        rows = _rows(stream)
        assert rows[1].startswith("  3m ago INFO ")
        assert rows[2].startswith("   in 2m INFO ") or rows[2].startswith("  in 2m INFO ")
        clock.ms += 2 * MINUTE  # ages move on with the clock
        stream.painter.tick(stream.refresh)
        await until(pilot, lambda: _rows(stream)[1].startswith("  5m ago "))
        assert _rows(stream)[2].startswith("     now ")

        await pilot.press("t")
        await until(pilot, lambda: _rows(stream)[0].startswith("Nov 27 "))


async def test_midnight_dates_what_was_today(engine: Engine) -> None:
    late = NOW + 12 * 60 * MINUTE - MINUTE  # 23:58:59 the same day
    await send_lines(
        tcp_port(engine), json.dumps({"message": "late", "ts": late, "category": "late"}).encode() + b"\n"
    )
    clock = Clock(late + 1_000)
    app = TimesApp(engine, clock)
    async with app.run_test(size=(120, 10)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"late"})))
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.pause()
        assert _rows(stream)[0].startswith("23:58:59.000 ")
        clock.ms += 2 * MINUTE  # past midnight: the same row is now yesterday's
        stream.painter.tick(stream.refresh)
        await until(pilot, lambda: _rows(stream)[0].startswith("Nov 30 23:58:59.000 "))
