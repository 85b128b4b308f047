"""Driving the real app for ``sidelog bench --ui`` (the Textual half of that command).

``sidelog.bench.ui`` owns the database, the load processes and the report; this module
owns everything that touches Textual, so nothing outside ``sidelog.tui`` imports it.
Keys are posted to the app exactly as a terminal driver posts them.

Everything is measured from outside the widgets. The app writes its frames to
``FrameClock``, a driver that throws the bytes away but notes, for each write, when it
happened, whether it drew stream rows (their ``HH:MM:SS`` column), and what the stream
held at that moment through its public API (``StreamView.cursor_event``, ``filter``,
``pager.holding``). "On screen" is the first write after the action that drew stream
rows while the stream already held the expected state.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from textual import events
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.reactive import reactive

from sidelog.config import Settings
from sidelog.engine import Engine, Subscription
from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.tui.intervals import Intervals
from sidelog.tui.live import LiveFeed
from sidelog.tui.widgets.first_page import FirstPage
from sidelog.tui.widgets.stream import StreamView

if TYPE_CHECKING:
    from sidelog.tui.app import SidelogApp

Record = Callable[[str, "float | int | None"], None]

_ROW_TIME = re.compile(r"\d\d:\d\d:\d\d")
"""A stream row's time column: nothing else on the main screen writes a clock time."""


class LoadProcess(Protocol):
    """A sender running in another process."""

    async def start(self) -> None:
        """Wait until it is ready, then let it send."""

    async def result(self) -> dict[str, Any]:
        """Wait for it to finish: ``{"sent", "seconds", "stored"}``."""


class UiPlan(Protocol):
    """What to measure and how to make load (supplied by ``sidelog.bench.ui``)."""

    ingest_events: int
    load_rate: int
    key_samples: int
    page_back: int
    idle_samples: int
    screen: tuple[int, int]
    filters: tuple[EventFilter, ...]

    def spawn(self, port: int, count: int, rate: float) -> LoadProcess:
        """Start a sender of ``count`` events at ``rate``/s (0: flat out) to ``port``."""

    def port(self, engine: Engine) -> int:
        """The engine's TCP port."""

    def summary(self, samples: list[float]) -> tuple[float, float, float]:
        """Median, p95 and max of ``samples``."""


@dataclass(frozen=True, slots=True)
class Shown:
    """What the stream held when a frame went out (read through its public API)."""

    cursor: Event | None = None
    """The highlighted event (``None``: no rows, or no stream yet)."""
    filter: EventFilter | None = None
    holding: bool = True
    """A load was replacing the window (its rows were not the new ones yet)."""


class StreamProbe:
    """Reads the app's stream, once it is mounted, for ``FrameClock``; before that, the
    first page the app draws in its place (the newest stored events, tui/startup.py), so
    the first paint is when rows are on screen, whichever widget drew them."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._stream: StreamView | None = None

    def __call__(self) -> Shown:
        """The stream's state now."""
        stream = self._stream
        if stream is None:
            found = self._app.query(StreamView)
            if not found:
                pages = self._app.query(FirstPage)
                rows = pages.first().rows if pages else []
                return Shown(rows[-1].event, EMPTY_FILTER, holding=False) if rows else Shown()
            stream = self._stream = found.first()
        return Shown(stream.cursor_event, stream.filter, stream.pager.holding)


class FrameClock(HeadlessDriver):
    """A driver that claims to be a terminal (so Textual encodes every frame), discards the
    output and notes when each write happened, whether it drew stream rows, and ``probe()``."""

    writes: list[tuple[float, bool, Shown]] = []
    probe: Callable[[], Shown] = Shown

    @property
    def is_headless(self) -> bool:
        """Not headless: the app must render and write frames as for a real terminal."""
        return False

    def write(self, data: str) -> None:
        """Note when a frame went out and what it showed; discard it."""
        FrameClock.writes.append(
            (time.perf_counter(), _ROW_TIME.search(data) is not None, FrameClock.probe())
        )
        if len(FrameClock.writes) > 10_000:
            del FrameClock.writes[:5_000]

    @classmethod
    def first_showing(cls, moment: float, shows: Callable[[Shown], bool]) -> float | None:
        """When the first write at or after ``moment`` drew stream rows (or the stream has
        none) while ``shows`` held for the stream, if any write did yet."""
        found = None
        for stamp, rows, shown in reversed(cls.writes):
            if stamp < moment:
                break
            if (rows or shown.cursor is None) and shows(shown):
                found = stamp
        return found


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the UI did not reach the expected state in time")
        await asyncio.sleep(0.001)


async def _on_screen(moment: float, shows: Callable[[Shown], bool]) -> float:
    """When the first frame after ``moment`` showed what ``shows`` expects."""
    await _until(lambda: FrameClock.first_showing(moment, shows) is not None)
    frame = FrameClock.first_showing(moment, shows)
    assert frame is not None
    return frame


def _has_rows(shown: Shown) -> bool:
    return shown.cursor is not None and not shown.holding


def _reloaded(flt: EventFilter) -> Callable[[Shown], bool]:
    def check(shown: Shown) -> bool:
        return shown.filter == flt and not shown.holding

    return check


def _moved_from(before: Event | None) -> Callable[[Shown], bool]:
    def check(shown: Shown) -> bool:
        return shown.cursor is not before

    return check


class StreamOnlyApp(App[None]):
    """The stream alone over its own engine, fed like the real app (one ``LiveFeed``).

    Measured beside ``SidelogApp`` so the stream's cost can be told apart from the
    other panes' (errors, health, sidebar).
    """

    flt: reactive[EventFilter] = reactive(EMPTY_FILTER, init=False)
    """What the stream shows."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.engine: Engine | None = None
        self.ready = asyncio.Event()
        self._subscription: Subscription | None = None

    async def on_mount(self) -> None:
        """Start the engine, mount the stream, follow live events."""
        from sidelog.server import start_server

        self.engine = (await start_server(self.settings)).engine
        self._subscription = self.engine.subscribe(maxsize=4096)
        stream = StreamView(self.engine, id="stream")
        await self.mount(stream)
        stream.focus()
        self.run_worker(self._follow(self._subscription, stream), name="bench-live", group="live")
        gc.freeze()  # as SidelogApp does once its engine runs
        self.ready.set()

    async def _follow(self, subscription: Subscription, stream: StreamView) -> None:
        intervals = Intervals()  # the app's defaults
        async for batch in LiveFeed(subscription, frame=intervals.frame, flood_frame=intervals.flood_frame):
            stream.add_batch(batch)

    def watch_flt(self, flt: EventFilter) -> None:
        """Reload the stream under the new filter."""
        self.run_worker(self.query_one(StreamView).set_filter(flt), group="filter", exclusive=True)

    async def on_unmount(self) -> None:
        """Drain and close the engine."""
        self.workers.cancel_group(self, "live")
        if self.engine is not None:
            await self.engine.stop()
        gc.unfreeze()


def _app(settings: Settings, stream_only: bool) -> SidelogApp | StreamOnlyApp:
    from sidelog.tui.app import SidelogApp

    app: SidelogApp | StreamOnlyApp = StreamOnlyApp(settings) if stream_only else SidelogApp(settings)
    app.driver_class = FrameClock
    FrameClock.writes = []
    FrameClock.probe = StreamProbe(app)
    return app


async def ingest_with_ui(
    settings: Settings, plan: UiPlan, *, stream_only: bool = False
) -> tuple[float, float]:
    """Start the app over ``settings``, flood it once while it follows, and stop it.

    Returns events/s and this process's CPU microseconds per event. Each run gets a
    fresh app, so runs can alternate with the engine alone (``sidelog.bench.ui``) and
    both sides see the same machine.
    """
    app = _app(settings, stream_only)
    async with app.run_test(headless=False, size=plan.screen):
        await _until(app.ready.is_set)
        stream = app.query_one(StreamView)
        await _on_screen(0.0, _has_rows)
        engine = app.engine
        assert engine is not None
        app.post_message(events.Key("end", None))
        await _until(lambda: stream.following)
        load = plan.spawn(plan.port(engine), plan.ingest_events, 0)
        await load.start()
        cpu = time.process_time()
        outcome = await load.result()
        cpu_us = (time.process_time() - cpu) * 1e6 / outcome["sent"]
    return outcome["sent"] / outcome["seconds"], cpu_us


async def run_ui_steps(
    settings: Settings, record: Record, plan: UiPlan, *, stream_only: bool = False
) -> None:
    """Start the app over ``settings`` and run every UI measurement, recording figures.

    ``stream_only`` measures ``StreamOnlyApp`` instead of the real ``SidelogApp`` and
    prefixes every figure with ``stream_only_``.
    """
    if stream_only:
        prefix, full_record = "stream_only_", record

        def record(name: str, value: float | int | None) -> None:
            full_record(prefix + name, value)

    app = _app(settings, stream_only)
    started = time.perf_counter()
    async with app.run_test(headless=False, size=plan.screen):
        await _until(app.ready.is_set)
        record("engine_ready_ms", (time.perf_counter() - started) * 1000)
        stream = app.query_one(StreamView)
        record("first_paint_ms", (await _on_screen(started, _has_rows) - started) * 1000)
        engine = app.engine
        assert engine is not None
        port = plan.port(engine)

        def press(key: str) -> float:
            moment = time.perf_counter()
            app.post_message(events.Key(key, None))
            return moment

        # A flood first (its rate is measured by ``ingest_with_ui``), so filter changes are
        # timed as a user meets them: a full window, a grown heap, a busy WAL.
        press("end")
        await _until(lambda: stream.following)
        load = plan.spawn(port, plan.ingest_events, 0)
        await load.start()
        await load.result()

        # Filter changes: set, reload from the store, first frame with the new rows.
        await asyncio.sleep(1.0)  # let the flood's tail drain (UI backlog, WAL checkpoint)
        timings = []
        for n, flt in enumerate(plan.filters, 1):
            await asyncio.sleep(0.3)
            moment = time.perf_counter()
            app.flt = flt
            timings.append((await _on_screen(moment, _reloaded(flt)) - moment) * 1000)
            record(f"filter_change_{n}_ms", timings[-1])
        median, _, worst = plan.summary(timings)
        record("filter_change_ms", worst)
        record("filter_change_median_ms", median)

        # Page back 10,000 events with PageUp, each press waiting for its frame.
        press("end")
        await _until(lambda: stream.following and stream.cursor_event is not None)
        newest = stream.cursor_event
        assert newest is not None
        assert newest.id is not None
        target = newest.id - plan.page_back
        presses = 0
        moment = time.perf_counter()
        while (current := stream.cursor_event) is not None and (current.id or 0) > target and presses < 2000:
            await _on_screen(press("pageup"), _moved_from(current))
            presses += 1
        record("page_back_10k_ms", (time.perf_counter() - moment) * 1000)
        record("page_back_keys", presses)

        # Key-to-screen while events arrive at the load rate.
        press("end")
        await _until(lambda: stream.following)
        duration = 3.0 + plan.key_samples * 0.1
        load = plan.spawn(port, int(plan.load_rate * duration), plan.load_rate)
        await load.start()
        await asyncio.sleep(1.0)  # let the load reach its rate
        press("up")  # pause first: while following, every batch moves the highlight too
        await _until(lambda: not stream.following)
        await asyncio.sleep(0.1)
        samples = []
        for n in range(plan.key_samples):
            before = stream.cursor_event
            pressed = press("down" if n % 2 == 0 else "up")
            samples.append((await _on_screen(pressed, _moved_from(before)) - pressed) * 1000)
            await asyncio.sleep(0.05)
        p50, p95, worst = plan.summary(samples)
        record("key_to_screen_p50_ms", p50)
        record("key_to_screen_p95_ms", p95)
        record("key_to_screen_max_ms", worst)
        outcome = await load.result()
        record("load_achieved_eps", outcome["sent"] / outcome["seconds"])

        # One event sent to an idle server, to the frame that shows it (following).
        press("end")
        await _until(lambda: stream.following and not engine.queue)
        p50, p95, worst = plan.summary(await _idle_event_to_screen(port, plan.idle_samples))
        record("idle_event_to_screen_p50_ms", p50)
        record("idle_event_to_screen_p95_ms", p95)
        record("idle_event_to_screen_max_ms", worst)


IDLE_GAP_S = 0.3
"""Pause before each idle sample: several batch intervals, so the writer is idle again."""


async def _idle_event_to_screen(port: int, samples: int) -> list[float]:
    """Milliseconds from writing one event line to the first frame whose highlighted
    (newest, following) row is that event, each sent after a pause."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    timings = []
    try:
        for n in range(samples):
            await asyncio.sleep(IDLE_GAP_S)
            message = f"idle probe {n}"
            line = json.dumps({"message": message, "category": "bench"}).encode() + b"\n"
            moment = time.perf_counter()
            writer.write(line)

            def shows(shown: Shown, message: str = message) -> bool:
                return shown.cursor is not None and shown.cursor.message == message

            timings.append((await _on_screen(moment, shows) - moment) * 1000)
    finally:
        writer.close()
    return timings


__all__ = ["FrameClock", "Shown", "StreamOnlyApp", "StreamProbe", "ingest_with_ui", "run_ui_steps"]
