"""Driving the real app for ``sidelog bench --ui`` (the Textual half of that command).

``sidelog.bench.ui`` owns the database, the load processes and the report;
this module owns everything that touches Textual, so nothing outside ``sidelog.tui``
imports it. Keys are posted to the app exactly as a terminal driver posts them, and
"on screen" means the first frame written to the driver after the stream drew the
changed row.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from textual import events
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.reactive import reactive

from sidelog.config import Settings
from sidelog.engine import Engine, Subscription
from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.tui.widgets.stream import StreamView

if TYPE_CHECKING:
    from sidelog.tui.app import SidelogApp

Record = Callable[[str, "float | int | None"], None]


class LoadProcess(Protocol):
    """A sender running in another process."""

    async def start(self) -> None:
        """Wait until it is ready, then let it send."""

    async def result(self) -> dict[str, Any]:
        """Wait for it to finish: ``{"sent", "seconds", "stored"}``."""


class UiPlan(Protocol):
    """What to measure and how to make load (supplied by ``commands.bench_ui``)."""

    ingest_events: int
    load_rate: int
    key_samples: int
    page_back: int
    screen: tuple[int, int]
    filters: tuple[EventFilter, ...]

    def spawn(self, port: int, count: int, rate: float) -> LoadProcess:
        """Start a sender of ``count`` events at ``rate``/s (0: flat out) to ``port``."""

    def port(self, engine: Engine) -> int:
        """The engine's TCP port."""

    def summary(self, samples: list[float]) -> tuple[float, float, float]:
        """Median, p95 and max of ``samples``."""


class FrameClock(HeadlessDriver):
    """A driver that claims to be a terminal (so Textual encodes every frame) and keeps
    only the time of each write."""

    writes: list[float] = []

    @property
    def is_headless(self) -> bool:
        """Not headless: the app must render and write frames as for a real terminal."""
        return False

    def write(self, data: str) -> None:
        """Note when a frame went out; discard it."""
        FrameClock.writes.append(time.perf_counter())
        if len(FrameClock.writes) > 10_000:
            del FrameClock.writes[:5_000]

    @classmethod
    def first_after(cls, moment: float) -> float | None:
        """When the first write at or after ``moment`` happened, if any yet."""
        found = None
        for stamp in reversed(cls.writes):
            if stamp < moment:
                break
            found = stamp
        return found


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the UI did not reach the expected state in time")
        await asyncio.sleep(0.001)


async def _frame_after(moment: float) -> float:
    await _until(lambda: FrameClock.first_after(moment) is not None)
    frame = FrameClock.first_after(moment)
    assert frame is not None
    return frame


def _reloaded(stream: StreamView, flt: EventFilter, moment: float) -> Callable[[], bool]:
    def check() -> bool:
        return stream.loaded_filter == flt and stream.loaded_at > moment

    return check


def _cursor_moved(stream: StreamView, before: Event | None, pressed: float) -> Callable[[], bool]:
    def check() -> bool:
        return stream.cursor_event is not before and stream.painted_cursor_at > pressed

    return check


class StreamOnlyApp(App[None]):
    """The stream alone over its own engine, fed like the real app (coalesced at 30 Hz).

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
        from sidelog.commands.serve import start_engine

        self.engine = await start_engine(self.settings)
        self._subscription = self.engine.subscribe(maxsize=4096)
        stream = StreamView(self.engine, id="stream")
        await self.mount(stream)
        stream.focus()
        self.run_worker(self._follow(self._subscription, stream), name="bench-live", group="live")
        gc.freeze()  # as SidelogApp does once its engine runs
        self.ready.set()

    async def _follow(self, subscription: Subscription, stream: StreamView) -> None:
        while True:
            batches = [await subscription.get()]
            await asyncio.sleep(1 / 30)
            while (more := subscription.get_nowait()) is not None:
                batches.append(more)
            stored = [event for batch in batches for event in batch.stored]
            live_only = [event for batch in batches for event in batch.live_only]
            stream.add_batch(CommittedBatch(stored=stored, live_only=live_only))

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

    FrameClock.writes = []
    app: SidelogApp | StreamOnlyApp = StreamOnlyApp(settings) if stream_only else SidelogApp(settings)
    app.driver_class = FrameClock
    return app


async def ingest_with_ui(
    settings: Settings, plan: UiPlan, *, stream_only: bool = False
) -> tuple[float, float]:
    """Start the app over ``settings``, flood it once while it follows, and stop it.

    Returns events/s and this process's CPU microseconds per event. Each run gets a
    fresh app, so runs can alternate with the engine alone (``commands.bench_ui``) and
    both sides see the same machine.
    """
    app = _app(settings, stream_only)
    async with app.run_test(headless=False, size=plan.screen):
        await _until(app.ready.is_set)
        stream = app.query_one(StreamView)
        await _until(lambda: stream.painted_at > 0 and stream.loaded_filter is not None)
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
        await _until(lambda: stream.painted_at > 0 and stream.loaded_filter is not None)
        record("first_paint_ms", (await _frame_after(stream.painted_at) - started) * 1000)
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
            await _until(_reloaded(stream, flt, moment))
            await _until(lambda: stream.painted_at > stream.loaded_at)
            timings.append((await _frame_after(stream.painted_at) - moment) * 1000)
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
            pressed = press("pageup")
            await _until(_cursor_moved(stream, current, pressed))
            await _frame_after(stream.painted_cursor_at)
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
            before_event = stream.cursor_event
            pressed = press("down" if n % 2 == 0 else "up")
            await _until(_cursor_moved(stream, before_event, pressed))
            samples.append((await _frame_after(stream.painted_cursor_at) - pressed) * 1000)
            await asyncio.sleep(0.05)
        p50, p95, worst = plan.summary(samples)
        record("key_to_screen_p50_ms", p50)
        record("key_to_screen_p95_ms", p95)
        record("key_to_screen_max_ms", worst)
        outcome = await load.result()
        record("load_achieved_eps", outcome["sent"] / outcome["seconds"])


__all__ = ["FrameClock", "StreamOnlyApp", "ingest_with_ui", "run_ui_steps"]
