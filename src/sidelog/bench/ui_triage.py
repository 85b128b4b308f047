"""``sidelog bench --ui``'s triage figures: the errors pane, the histogram and two views
over a million stored events in thousands of error groups.

The store is the cached prefill with its error events spread over ``groups_for``
groups (``sidelog.bench.fill.ensure_group_prefill``, built once in a child process
and cached beside the prefill). The real ``SidelogApp`` runs under ``App.run_test``
with ``TriageClock``: like ``ui_driver.FrameClock`` it claims to be a terminal, so every
frame is composed and encoded, and throws the bytes away; for each write it notes when
it happened and what the app held then, read through public attributes (the errors
pane's groups and cursor, the histogram's filter and count of counts done, the screen
on top). A figure is the time from the key (or the filter change) to the first frame
written once the app held the expected state. Measured:

- the errors pane's first page, from app start (engine start included);
- ``e`` opening the hidden errors pane to its rows on screen;
- ``end`` in the pane (once it has settled) to the frame highlighting the last of all the
  unresolved groups;
- bulk resolve and undo (``R``, ``y``, ``U``) to the list reloaded and to every event
  flagged, and the same through the engine alone (``ui_triage_bulk``);
- the histogram's redraw after each of several filter changes (default zoom);
- ``enter`` on an error event to the detail view's first frame, and ``f`` on a group
  to the feedback view with its reports read (several of each).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sidelog.filters import EMPTY_FILTER, EventFilter

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.tui.app import SidelogApp

Record = Callable[[str, "float | int | None"], None]

MAX_GROUPS = 10_000
"""Error groups in the store at the full size (one per 100 stored events below that)."""
DETAIL_SAMPLES = 5
FEEDBACK_SAMPLES = 3
FILTERS: tuple[EventFilter, ...] = (
    EventFilter(levels=frozenset({"error"})),
    EventFilter(categories=frozenset({"payment"}), levels=frozenset({"warn", "error"})),
    EventFilter(user="user_0042"),
    EventFilter(sources=frozenset({"client"})),
    EMPTY_FILTER,
)
"""The filter changes the histogram redraws for (the stream benchmark's own set)."""

TRIAGE_TARGETS: dict[str, tuple[str, float]] = {
    "errors_open_ms": ("<=", 150),
    "errors_end_ms": ("<=", 300),
    "bulk_resolve_ms": ("<=", 1000),
    "bulk_undo_ms": ("<=", 1000),
    "histogram_filter_ms": ("<=", 100),
    "detail_open_ms": ("<=", 200),
    "feedback_open_ms": ("<=", 200),
}
"""Targets of the triage figures (the detail view's bound, 200 ms, serves the feedback view too)."""

TRIAGE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("triage_groups", "error groups in the triage store", ""),
    ("triage_build_s", "triage store build (0 = cached)", "s"),
    ("errors_first_page_ms", "app start to errors pane's first page", "ms"),
    ("errors_open_ms", "e: errors pane opens, rows on screen", "ms"),
    ("errors_end_ms", "end: last group highlighted", "ms"),
    ("bulk_resolve_groups", "groups in the bulk resolve", ""),
    ("bulk_resolve_ms", "bulk resolve (R, y) to list reloaded", "ms"),
    ("bulk_resolve_flagged_ms", "bulk resolve (R, y) to all events flagged", "ms"),
    ("bulk_undo_ms", "undo (U) to groups listed again", "ms"),
    ("bulk_undo_flagged_ms", "undo (U) to all events unflagged", "ms"),
    ("bulk_undo_early_ms", "U while resolve flags: groups listed", "ms"),
    ("bulk_resolve_store_ms", "same resolve, engine alone: groups", "ms"),
    ("bulk_resolve_store_flagged_ms", "same resolve, engine alone: events", "ms"),
    ("bulk_undo_store_ms", "same undo, engine alone: groups", "ms"),
    ("bulk_undo_store_flagged_ms", "same undo, engine alone: events", "ms"),
    ("bulk_resolve_turn_ms", "its longest writer turn (resolve)", "ms"),
    ("bulk_undo_turn_ms", "its longest writer turn (undo)", "ms"),
    ("histogram_filter_ms", "histogram redraw on filter change (worst)", "ms"),
    ("histogram_filter_median_ms", "histogram redraw (median)", "ms"),
    ("detail_open_ms", "enter: detail view open (worst)", "ms"),
    ("detail_open_median_ms", "detail view open (median)", "ms"),
    ("feedback_open_ms", "f: feedback view open, read (worst)", "ms"),
    ("feedback_open_median_ms", "feedback view open (median)", "ms"),
)
"""The triage rows of the report: key, label, unit."""


def groups_for(prefill: int) -> int:
    """Error groups for a store of ``prefill`` events: ``MAX_GROUPS`` at a million."""
    return max(1, min(MAX_GROUPS, prefill // 100))


def ensure_group_store(folder: Path, prefill: int) -> tuple[Path, float]:
    """The cached triage store (built in a child process if missing) and the seconds spent building."""
    from sidelog.bench.fill import group_prefill_path

    groups = groups_for(prefill)
    path = group_prefill_path(folder, prefill, groups)
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(
        target=_build, args=(str(folder), prefill, groups), name="sidelog-bench-groups"
    )
    process.start()
    process.join()
    if process.exitcode != 0 or not path.exists():
        raise RuntimeError(f"building the error-group store failed (exit {process.exitcode})")
    return path, time.perf_counter() - started


def _build(folder: str, prefill: int, groups: int) -> None:
    from sidelog.bench.fill import ensure_group_prefill

    ensure_group_prefill(Path(folder), prefill, groups, lambda _message: None)


@dataclass(frozen=True, slots=True)
class Held:
    """What the app held when a frame went out."""

    screen: str = ""
    """The class name of the screen on top."""
    pane_shown: bool = False
    """The errors pane is displayed and focused."""
    rows: int = 0
    """Groups listed in the errors pane."""
    open_rows: int = 0
    """Of those, unresolved."""
    cursor: str | None = None
    """The fingerprint of the highlighted group."""
    bulk: int = 0
    """Groups the last bulk resolve resolved (what ``U`` would reopen)."""
    counts: int = 0
    """Histogram counts landed."""
    histogram_filter: EventFilter | None = None
    feedback_read: bool = False
    """The feedback view on top has read its group's reports."""


def _look(app: SidelogApp) -> Callable[[], Held]:
    """A reader of ``Held`` for ``app`` (empty until its panes are mounted)."""
    from sidelog.tui.screens.feedback import FeedbackScreen
    from sidelog.tui.widgets.errors import ErrorsPane
    from sidelog.tui.widgets.histogram import HistogramBar

    def look() -> Held:
        try:
            pane = app.query_one("#errors", ErrorsPane)
            histogram = app.query_one("#histogram", HistogramBar)
            screen = app.screen
        except Exception:  # not mounted yet (or already torn down)
            return Held()
        groups = pane.groups
        cursor = pane.highlighted_group
        return Held(
            screen=type(screen).__name__,
            pane_shown=pane.display and pane.has_focus,
            rows=len(groups),
            open_rows=sum(1 for group in groups if group.status == "unresolved"),
            cursor=None if cursor is None else cursor.fingerprint,
            bulk=len(pane.bulk_resolved),
            counts=histogram.counts_done,
            histogram_filter=histogram.flt,
            feedback_read=isinstance(screen, FeedbackScreen) and screen.feedback is not None,
        )

    return look


def _clock_class() -> Any:
    """``TriageClock``: defined on first use, so only ``--ui`` runs import Textual."""
    from sidelog.bench.ui_driver import FrameClock

    class TriageClock(FrameClock):
        """``FrameClock`` noting ``Held`` for each write instead of the stream's state."""

        frames: list[tuple[float, Held]] = []
        look: Callable[[], Held] = Held

        def write(self, data: str) -> None:
            """Note when a frame went out and what the app held; discard it."""
            TriageClock.frames.append((time.perf_counter(), TriageClock.look()))
            if len(TriageClock.frames) > 10_000:
                del TriageClock.frames[:5_000]

    return TriageClock


async def _until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the UI did not reach the expected state in time")
        await asyncio.sleep(0.001)


def _cursor_on(group: Any, fingerprint: str) -> bool:
    return group is not None and group.fingerprint == fingerprint


def _counted(held: Held, flt: EventFilter, before: int) -> bool:
    return held.histogram_filter == flt and held.counts > before


def _summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), max(samples)


async def run_triage_steps(settings: Settings, record: Record, *, screen: tuple[int, int]) -> None:
    """Start the app over the triage store in ``settings`` and record every triage figure."""
    from textual import events

    from sidelog.bench.ui_triage_bulk import BulkSteps, measure_bulk
    from sidelog.tui.app import SidelogApp
    from sidelog.tui.widgets.errors import ErrorsPane
    from sidelog.tui.widgets.errors_bulk import unresolved_fingerprints
    from sidelog.tui.widgets.histogram import HistogramBar
    from sidelog.tui.widgets.stream import StreamView

    clock = _clock_class()
    app = SidelogApp(settings)
    app.driver_class = clock
    clock.frames = []
    clock.look = _look(app)

    def first(moment: float, wanted: Callable[[Held], bool]) -> float | None:
        for stamp, held in clock.frames:
            if stamp >= moment and wanted(held):
                return float(stamp)
        return None

    async def shown(moment: float, wanted: Callable[[Held], bool]) -> float:
        """Milliseconds from ``moment`` to the first frame that held what ``wanted`` expects."""
        await _until(lambda: first(moment, wanted) is not None)
        frame = first(moment, wanted)
        assert frame is not None
        return (frame - moment) * 1000

    def press(key: str) -> float:
        character = "\r" if key == "enter" else key if len(key) == 1 else None
        moment = time.perf_counter()
        app.post_message(events.Key(key, character))
        return moment

    started = time.perf_counter()
    async with app.run_test(headless=False, size=screen) as pilot:
        await _until(app.ready.is_set)
        engine = app.engine
        assert engine is not None
        pane = app.query_one("#errors", ErrorsPane)
        stream = app.query_one(StreamView)
        record("errors_first_page_ms", await shown(started, lambda held: held.rows > 0))
        everything = await unresolved_fingerprints(engine)  # newest first
        record("triage_groups", len(everything))

        # ``e`` on a hidden pane: shown, focused, its rows drawn.
        if pane.display:
            if not pane.has_focus:
                press("e")
                await _until(lambda: pane.has_focus)
            press("e")  # ``e`` on the focused pane hides it
            await _until(lambda: not pane.display)
        await asyncio.sleep(0.3)
        record("errors_open_ms", await shown(press("e"), lambda held: held.pane_shown and held.rows > 0))

        # ``end``: the last of every unresolved group, not the last row read so far; from a
        # settled pane, like every other key here (not while the open's own work still runs).
        last = everything[-1]
        await asyncio.sleep(0.3)
        record("errors_end_ms", await shown(press("end"), lambda held: held.cursor == last))
        press("home")
        await _until(lambda: _cursor_on(pane.highlighted_group, everything[0]))

        await measure_bulk(
            BulkSteps(app, pane, engine, everything, record, shown, press, _until),
        )

        # The histogram's redraw on each filter change.
        timings = []
        for flt in FILTERS if app.flt != FILTERS[0] else FILTERS[1:]:
            await asyncio.sleep(0.3)
            counted: int = app.query_one("#histogram", HistogramBar).counts_done
            moment = time.perf_counter()
            app.flt = flt
            timings.append(await shown(moment, partial(_counted, flt=flt, before=counted)))
        median, worst = _summary(timings)
        record("histogram_filter_ms", worst)
        record("histogram_filter_median_ms", median)

        # ``f`` on a group: the feedback view with its reports read.
        if not pane.has_focus:  # ``e`` on the focused pane would hide it
            press("e")
        await _until(lambda: pane.display and pane.has_focus)
        timings = []
        for _ in range(FEEDBACK_SAMPLES):
            await asyncio.sleep(0.2)
            timings.append(await shown(press("f"), lambda held: held.feedback_read))
            press("escape")
            await _until(lambda: type(app.screen).__name__ == "MainScreen")
            press("down")
            await pilot.pause()
        median, worst = _summary(timings)
        record("feedback_open_ms", worst)
        record("feedback_open_median_ms", median)

        # ``enter`` on an error event: the detail view's first frame.
        errors_only = EventFilter(levels=frozenset({"error"}))
        app.flt = errors_only
        stream.focus()
        await _until(
            lambda: (
                stream.has_focus
                and stream.filter == errors_only
                and stream.cursor_event is not None
                and not stream.pager.holding
            )
        )
        timings = []
        for _ in range(DETAIL_SAMPLES):
            await asyncio.sleep(0.2)
            timings.append(await shown(press("enter"), lambda held: held.screen == "EventDetailScreen"))
            press("escape")
            await _until(lambda: type(app.screen).__name__ == "MainScreen")
            press("up")
            await pilot.pause()
        median, worst = _summary(timings)
        record("detail_open_ms", worst)
        record("detail_open_median_ms", median)
        # Let every posted key and the main screen's "uncovered" work land before the app is
        # torn down: a teardown racing them finds no screen or no histogram (tui/app.py).
        await pilot.pause()
        await asyncio.sleep(0.5)
        await pilot.pause()


__all__ = [
    "TRIAGE_ROWS",
    "TRIAGE_TARGETS",
    "ensure_group_store",
    "groups_for",
    "run_triage_steps",
]
