"""The histogram above the stream: events per time bucket, stacked by level, like lnav's.

Each column is one bucket of the zoom's size (``store/histogram.py``), the newest at
the right. Two rows of eighth blocks stack errors (bottom), warnings, info and debug;
the third row names the window's ends, the zoom and the keys. The counts follow the
app's filter, all but its time range, which is drawn bright and the rest dimmed, so an
error spike beside the one in view can be found and jumped to (``n``/``N``).

A filter change, a zoom or a new width counts afresh with one query in a worker; live
events are added in memory between counts (those the count already included are
skipped by id), and the screen is redrawn at most once per ``refresh_every``. The same
timer slides the window along as time passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual import work
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from sidelog.events import LEVELS, now_ms
from sidelog.filters import EMPTY_FILTER, EventFilter
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.store.histogram import (
    DEFAULT_ZOOM,
    MAX_BUCKETS,
    ZOOM_STEPS_MS,
    Histogram,
    Window,
    counting_filter,
    read_histogram,
    spikes,
    window_for,
)
from sidelog.tui import humanize
from sidelog.tui.repro import app_engine

ROWS = 2
"""Rows of bars: eight steps each, so a column has sixteen."""
STACK = ("error", "warn", "info", "debug")
"""Bottom to top: errors always sit on the baseline, where a spike is easiest to see."""
COLOURS = {"error": "$error", "warn": "$warning", "info": "$primary", "debug": "$text-muted"}
BLOCKS = " ▁▂▃▄▅▆▇█"
MAX_BUFFERED = 50_000
"""Live events held while a count runs; past this, the count is simply run again."""
ZOOM_NAMES = ("1s", "5s", "15s", "1m", "5m", "15m", "1h", "6h", "1d", "1w")
assert len(ZOOM_NAMES) == len(ZOOM_STEPS_MS)


@dataclass(frozen=True, slots=True)
class Cell:
    """One character of a bar: the block, its colour and what shows above it."""

    char: str
    colour: str
    background: str | None = None


def column_cells(counts: dict[str, int], peak: int) -> list[Cell]:
    """The ``ROWS`` cells of one column, bottom first: each level's share of ``peak`` in
    eighths (at least one for a level with any event, so a lone error shows). A cell shared
    by two levels shows the lower one's block on the upper one's colour when it is full,
    else in the colour of the worst level in it."""
    units = ROWS * 8
    spans: list[tuple[str, int, int]] = []
    top = 0
    for level in STACK:
        count = counts.get(level, 0)
        if count <= 0 or peak <= 0:
            continue
        size = max(1, round(count * units / peak))
        spans.append((level, top, min(units, top + size)))
        top = min(units, top + size)
    cells: list[Cell] = []
    for row in range(ROWS):
        low, high = row * 8, row * 8 + 8
        filled = max(0, min(top, high) - low)
        inside = [(level, min(end, high) - max(start, low)) for level, start, end in spans]
        inside = [(level, size) for level, size in inside if size > 0]
        if filled == 0 or not inside:
            cells.append(Cell(" ", ""))
        elif len(inside) == 1:
            cells.append(Cell(BLOCKS[filled], COLOURS[inside[0][0]]))
        elif filled == 8:
            (lower, size), *above = inside
            upper = max(above, key=lambda part: part[1])[0]
            cells.append(Cell(BLOCKS[size], COLOURS[lower], COLOURS[upper]))
        else:
            worst = min(inside, key=lambda part: STACK.index(part[0]))[0]
            cells.append(Cell(BLOCKS[filled], COLOURS[worst]))
    return cells


class HistogramBar(Widget):
    """Events per time bucket by level for the app's filter, over the stream."""

    DEFAULT_CSS = """
    HistogramBar { height: 3; }
    HistogramBar.-empty { height: 1; }
    HistogramBar.-hidden { display: none; }
    """

    zoom: reactive[int] = reactive(DEFAULT_ZOOM, init=False)
    """Index into ``ZOOM_STEPS_MS``: the size of one column's bucket."""

    def __init__(
        self, *, clock: Callable[[], int] = now_ms, refresh_every: float = 0.25, id: str | None = None
    ) -> None:
        """``clock`` says what *now* is; ``refresh_every`` is the shortest gap between redraws."""
        super().__init__(id=id)
        self._clock = clock
        self._refresh_every = refresh_every
        self.flt: EventFilter = EMPTY_FILTER
        self._counting = counting_filter(EMPTY_FILTER)
        self.histogram: Histogram | None = None
        """The counts on screen (``None`` until the first count)."""
        self.counts_done = 0
        """How many counts have landed (tests wait on it)."""
        self._loading = False
        self._buffer: list[tuple[int, int, str]] | None = None
        self._dirty = False

    def on_mount(self) -> None:
        """Follow the app's filter, and tick: slide the window, redraw what changed."""
        if hasattr(type(self.app), "flt"):
            self.watch(self.app, "flt", self.set_filter)
        self.set_interval(self._refresh_every, self._tick, name="histogram-tick")

    # ------------------------------------------------------------------ state

    def set_filter(self, flt: EventFilter) -> None:
        """Count afresh under ``flt`` (its time range only moves the window and the highlight)."""
        self.flt = flt
        self._counting = counting_filter(flt)
        self.reload()

    def watch_zoom(self) -> None:
        """A new bucket size: count afresh."""
        self.reload()

    def on_resize(self) -> None:
        """A new width is a new number of columns."""
        if self.histogram is None or self.histogram.window.buckets != self._columns():
            self.reload()

    def zoom_by(self, step: int) -> bool:
        """Finer (``step`` < 0) or coarser buckets; ``False`` at either end of the steps."""
        zoom = min(max(self.zoom + step, 0), len(ZOOM_STEPS_MS) - 1)
        if zoom == self.zoom:
            return False
        self.zoom = zoom
        return True

    def toggle(self) -> None:
        """Hide the histogram, or show it again."""
        self.toggle_class("-hidden")
        if not self.has_class("-hidden"):
            self.reload()

    def _columns(self) -> int:
        return max(0, min(self.content_region.width, MAX_BUCKETS))

    def _window(self) -> Window:
        """The window ending now, unless the time range lies outside it: then one around the
        range (a jump to a spike in view keeps the picture still)."""
        now, bucket_ms, columns = self._clock(), ZOOM_STEPS_MS[self.zoom], self._columns()
        latest = window_for(now=now, bucket_ms=bucket_ms, buckets=columns)
        since, until = self.flt.since, self.flt.until
        if (since is None or since >= latest.start) and (until is None or until <= latest.end):
            return latest
        return window_for(now=now, bucket_ms=bucket_ms, buckets=columns, since=since, until=until)

    # ------------------------------------------------------------------ counts

    def reload(self) -> None:
        """Count the window afresh (the previous count, if running, is dropped)."""
        if app_engine(self.app) is None or self.has_class("-hidden"):
            return
        self._loading = True
        self._buffer = []
        self._count(self._window(), self.flt)

    @work(name="histogram-count", group="histogram", exclusive=True, exit_on_error=False)
    async def _count(self, window: Window, flt: EventFilter) -> None:
        engine = app_engine(self.app)
        if engine is None:
            return
        now = self._clock()
        histogram = await read_histogram(engine.reader, flt, window, now=now, facets=engine.facet_counts())
        buffered, self._buffer = self._buffer or [], None
        self.histogram, self._loading = histogram, False
        for event_id, timestamp, level in buffered:
            if event_id > histogram.newest_id:
                histogram.add(timestamp, level)
        self.counts_done += 1
        self._redraw()

    def add_batches(self, batches: Iterable[CommittedBatch]) -> None:
        """Count the stored live events that match (drawn at the next tick)."""
        counting = self._counting
        for batch in batches:
            for event in batch.stored:
                if event.id is None or not counting.matches(event):
                    continue
                if self._buffer is not None:
                    self._buffer.append((event.id, event.timestamp, event.level))
                    if len(self._buffer) > MAX_BUFFERED:
                        self.reload()
                elif self.histogram is not None and event.id > self.histogram.newest_id:
                    self._dirty |= self.histogram.add(event.timestamp, event.level)

    def _tick(self) -> None:
        if self.has_class("-hidden"):
            return
        histogram = self.histogram
        if histogram is None:
            if not self._loading:
                self.reload()  # the engine has started since
            return
        window = self._window()
        if window != histogram.window and not self._loading:
            slid = histogram.slid(window)
            if slid is None:
                self.reload()
                return
            self.histogram = slid
            self._dirty = True
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        # A repaint of this widget alone: the height changes only with ``-empty``, and a class
        # change lays the screen out again by itself (a layout on every count cost 25-60 ms a
        # frame over a million events, the stream and errors pane arranged again for nothing).
        self._dirty = False
        histogram = self.histogram
        self.set_class(histogram is None or histogram.total == 0, "-empty")
        self.refresh()

    # ------------------------------------------------------------------ spikes

    def spike_range(self, direction: int) -> tuple[int, int] | None:
        """``(since, until)`` of the next (``direction`` > 0) or previous error spike,
        counted from the active time range (from the window's left or right edge
        without one)."""
        histogram = self.histogram
        if histogram is None:
            return None
        window = histogram.window
        runs = spikes(histogram.counts["error"])
        if direction > 0:
            after = self.flt.since if self.flt.since is not None else window.start - 1
            found = next((run for run in runs if window.bounds(run[0])[0] > after), None)
        else:
            before = self.flt.since if self.flt.since is not None else window.end
            found = next((run for run in reversed(runs) if window.bounds(run[0])[0] < before), None)
        if found is None:
            return None
        return window.bounds(found[0])[0], window.bounds(found[1])[1]

    # ------------------------------------------------------------------ drawing

    def render(self) -> Content:
        """Two rows of stacked bars and a row of labels, or one line saying why there are none."""
        width = self.content_region.width
        histogram = self.histogram
        if width <= 0:
            return Content("")
        if histogram is None:
            return Content.styled("histogram: counting…", "$text-muted").truncate(width)
        if histogram.total == 0:
            return self._empty_line(histogram).truncate(width, ellipsis=True)
        return Content("\n").join([*self._bar_rows(histogram), self._labels(histogram, width)])

    def _empty_line(self, histogram: Histogram) -> Content:
        if histogram.empty_store:
            return Content.styled("histogram: no events stored yet", "$text-muted")
        window = histogram.window
        what = "no events here" if self.flt.is_empty else "no events match the filter here"
        text = f"histogram: {what}"
        if not self.flt.is_empty:
            text += " · c clears filters"
        text += f" · - zooms out · {self._when(window.start)} to {self._when(window.end)}"
        if histogram.later:
            text = f"{text} · {histogram.later:,} dated later"
        return Content.styled(text, "$text-muted")

    def _bar_rows(self, histogram: Histogram) -> list[Content]:
        window = histogram.window
        per_column = [
            {level: histogram.counts[level][index] for level in LEVELS} for index in range(window.buckets)
        ]
        peak = max((sum(column.values()) for column in per_column), default=0)
        selected = self._selected(window)
        rows: list[list[tuple[str, str]]] = [[] for _ in range(ROWS)]
        for index, column in enumerate(per_column):
            dim = "" if selected is None or selected[0] <= index <= selected[1] else " dim"
            for row, cell in enumerate(column_cells(column, peak)):
                style = cell.colour + (f" on {cell.background}" if cell.background else "") + dim
                rows[ROWS - 1 - row].append((cell.char, style.strip()))
        return [Content.assemble(*parts) for parts in rows]

    def _selected(self, window: Window) -> tuple[int, int] | None:
        """First and last column inside the filter's time range (``None``: no range)."""
        since, until = self.flt.since, self.flt.until
        if since is None and until is None:
            return None
        first = 0 if since is None else (since - window.start) // window.bucket_ms
        last = window.buckets - 1 if until is None else (until - 1 - window.start) // window.bucket_ms
        return first, last

    def _labels(self, histogram: Histogram, width: int) -> Content:
        window = histogram.window
        left = self._when(window.start)
        right = "now" if histogram.counts_later else self._when(window.end)
        if histogram.later:
            right = f"{histogram.later:,} dated later › {right}"
        peak = max(histogram.totals(), default=0)
        errors = sum(histogram.counts["error"])
        middle_parts = [
            f"{ZOOM_NAMES[self.zoom]}/col",
            f"peak {peak:,}",
            f"{errors:,} error" + ("" if errors == 1 else "s"),
            "+/- zoom · n/N error spikes · h hides",
        ]
        room = width - len(left) - len(right) - 2
        middle = ""
        for part in middle_parts:
            candidate = f"{middle} · {part}" if middle else part
            if len(candidate) > room:
                break
            middle = candidate
        gap = max(0, width - len(left) - len(right) - len(middle))
        pad_left = gap // 2
        line = Content.assemble(
            (left, "$text-muted"),
            " " * pad_left,
            (middle, "$text-muted"),
            " " * (gap - pad_left),
            (right, "$text-warning" if histogram.later else "$text-muted"),
        )
        return line.truncate(width)

    def _when(self, ms: int) -> str:
        level = humanize.date_level(ms, self._clock())
        seconds = ZOOM_STEPS_MS[self.zoom] < 60_000
        text = humanize.clock(ms, level=level, millis=False)
        return text if seconds else text[: len(text) - 3]


__all__ = ["COLOURS", "ROWS", "STACK", "Cell", "HistogramBar", "column_cells"]
