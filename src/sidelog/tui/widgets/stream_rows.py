"""One stream row as a ``Strip``: fixed columns, sanitized text, no markup anywhere.

Kept apart from the widget so the rules for what a row shows (and what it may never
contain) read in one place. Segments are built directly from ``safe_text`` output:
nothing here is parsed as markup and no control character survives to the terminal.

The time column reads the clock time while every row on screen is from today; once
one is not, every row on screen carries its date (``Nov 27 10:00:00.123``, or the year
too), so the columns stay aligned. ``t`` switches it to ages (``3m ago``, ``in 2m`` for
a sender whose clock runs ahead). ``RowPainter`` owns that mode, the strip cache and the
once-a-second check that redraws ages (and dates after midnight).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widget import Widget

from sidelog.events import Event, now_ms
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize

KEEP_CHARS = 4000
"""Longest message/userMessage kept per row in memory (the detail view refetches by id)."""
KEEP_DETAILS = 16_000
"""Longest ``details`` kept per row in memory."""

COMPONENTS = (
    "cursor",
    "time",
    "debug",
    "info",
    "warn",
    "error",
    "category",
    "source",
    "user",
    "none",
)
"""Style names a row uses; the widget maps each to its ``stream--<name>`` component class."""
ROW_CSS = """
        overflow-x: hidden;
        overflow-y: scroll;
        & > .stream--cursor { background: $block-cursor-blurred-background; text-style: bold; }
        &:focus > .stream--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .stream--time { color: $text-muted; }
        & > .stream--debug { color: $text-muted; }
        & > .stream--info { color: $text-success; }
        & > .stream--warn { color: $text-warning; text-style: bold; }
        & > .stream--error { color: $text-error; text-style: bold; }
        & > .stream--category { color: $text-primary; }
        & > .stream--source { color: $text-secondary; }
        & > .stream--user { color: $text-accent; }
        & > .stream--none { color: $text-muted; }
"""
"""The rules of a widget that draws rows (``StreamView``, and ``FirstPage`` before it), in
its ``DEFAULT_CSS``: one place, so the stream takes over the first page with no change."""

_LEVEL_LABELS = {"debug": "DEBUG", "info": "INFO ", "warn": "WARN ", "error": "ERROR"}


class Row(Protocol):
    """A held row as the painter reads it (``stream_window.Row``, which imports this module)."""

    @property
    def key(self) -> int:
        """Unique for the life of the window."""
        ...

    @property
    def event(self) -> Event:
        """The event the row shows."""
        ...


RELATIVE_WIDTH = 8
"""Cells of the time column in relative mode (``999d ago``)."""


@dataclass(frozen=True, slots=True)
class TimeFormat:
    """How the time column reads on one screen (hashable: part of the strip cache key)."""

    relative: bool = False
    """Ages instead of clock times."""
    level: int = humanize.TIME_ONLY
    """How much date clock times carry (``humanize.date_level``)."""
    now_ms: int = 0
    """The clock ages are counted to (whole seconds; 0 in clock mode)."""


def time_text(stamp: int, fmt: TimeFormat, *, wide: bool) -> str:
    """The time column of one row (wide panes show milliseconds)."""
    if fmt.relative:
        return humanize.relative(stamp, fmt.now_ms).rjust(RELATIVE_WIDTH)
    return humanize.clock(stamp, level=fmt.level, millis=wide)


def render_row(
    event: Event, width: int, styles: dict[str, Style], selected: bool, times: TimeFormat | None = None
) -> Strip:
    """``event`` as exactly ``width`` cells: time, level, category, source, user, message.

    Narrow panes drop source (< 100 cells), user (< 80) and category (< 60) so the
    message keeps room. ``styles`` holds ``base`` plus every name in ``COMPONENTS``.
    ``times`` defaults to clock times, dated unless the event is from today.
    """
    base = styles["base"]
    stamp = event.timestamp
    if times is None:
        times = TimeFormat(level=humanize.date_level(stamp, now_ms()))
    wide = width >= 100
    columns: list[tuple[str, Style]] = [
        (time_text(stamp, times, wide=wide), styles["time"]),
        (_LEVEL_LABELS.get(event.level, fit(event.level.upper(), 5)), styles.get(event.level, base)),
    ]
    if width >= 60:
        columns.append((fit(event.category, 10), styles["category"]))
    if wide:
        columns.append((fit(event.source, 10), styles["source"]))
    if width >= 80:
        user = event.user_id
        columns.append(
            (fit(user, 14), styles["user"]) if user is not None else (fit("-", 14), styles["none"])
        )
    if selected:
        base = styles["cursor"]
        columns = [(text, base) for text, _ in columns]
    segments: list[Segment] = []
    used = 0
    for text, style in columns:
        segments.append(Segment(text, style))
        segments.append(Segment(" ", base))
        used += cell_len(text) + 1
    room = max(0, width - used)
    segments.append(Segment(fit(event.message, room), base))
    return Strip(segments, used + room).crop_extend(0, width, base)


def fit(value: str, width: int) -> str:
    """``value`` sanitized and padded or cut (marked ``…``) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    text = safe_text(clip(value, width * 2))
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def slim(event: Event) -> Event:
    """``event`` with huge text cut, so a window of thousands of rows stays small in memory."""
    message, details, user_message = event.message, event.details, event.user_message
    if (
        len(message) <= KEEP_CHARS
        and (details is None or len(details) <= KEEP_DETAILS)
        and (user_message is None or len(user_message) <= KEEP_CHARS)
    ):
        return event
    return replace(
        event,
        message=clip(message, KEEP_CHARS),
        details=None if details is not None and len(details) > KEEP_DETAILS else details,
        user_message=None if user_message is None else clip(user_message, KEEP_CHARS),
    )


class RowPainter:
    """Draws a stream widget's rows: the strip cache, the styles and the time column's mode."""

    def __init__(self, widget: Widget, clock: Callable[[], int] = now_ms) -> None:
        self._widget = widget
        self._clock = clock
        self._styles: dict[str, Style] | None = None
        self._cache: LRUCache[tuple[int, int, bool, TimeFormat], Strip] = LRUCache(1024)
        """Drawn rows by (row key, width, highlighted, time format)."""
        self._screen: tuple[tuple[int, int, int, int], TimeFormat] | None = None
        """The time format of the rows last on screen, by (top row key, rows, width, second)."""
        self.relative = False
        """Ages ("3m ago") instead of clock times."""

    def toggle_relative(self) -> None:
        """Switch between clock times and ages."""
        self.relative = not self.relative
        self._screen = None

    def clear(self) -> None:
        """The rows changed: forget every drawn one."""
        self._cache.clear()
        self._screen = None

    def restyle(self) -> None:
        """Colours may have changed: read them again and redraw."""
        self._styles = None
        self.clear()

    def tick(self, refresh: Callable[[], object]) -> None:
        """Call ``refresh`` when the rows on screen would read differently now (ages, midnight)."""
        if self._screen is None:
            return
        (*_, painted_s), fmt = self._screen
        now = self._clock()
        if now // 1000 == painted_s:
            return
        if fmt.relative or humanize.date_level(painted_s * 1000, now) != humanize.TIME_ONLY:
            self._screen = None
            refresh()

    def paint(
        self, rows: Sequence[Row], index: int, top: int, height: int, width: int, selected: bool
    ) -> Strip:
        """Row ``index`` of ``rows`` (``top`` and ``height`` say which rows share the screen)."""
        fmt = self._format(rows, top, height)
        row = rows[index]
        key = (row.key, width, selected, fmt)
        strip = self._cache.get(key)
        if strip is None:
            strip = render_row(row.event, width, self._style_map(), selected, fmt)
            self._cache[key] = strip
        return strip

    def _format(self, rows: Sequence[Row], top: int, height: int) -> TimeFormat:
        now = self._clock()
        first = rows[top].key if 0 <= top < len(rows) else -1
        ident = (first, min(height, len(rows) - top), len(rows), now // 1000)
        if self._screen is not None and self._screen[0] == ident:
            return self._screen[1]
        if self.relative:
            fmt = TimeFormat(relative=True, now_ms=now // 1000 * 1000)
        else:
            shown = rows[max(0, top) : top + height]
            level = max((humanize.date_level(row.event.timestamp, now) for row in shown), default=0)
            fmt = TimeFormat(level=level)
        self._screen = (ident, fmt)
        return fmt

    def _style_map(self) -> dict[str, Style]:
        if self._styles is None:
            widget = self._widget
            self._styles = {name: widget.get_component_rich_style(f"stream--{name}") for name in COMPONENTS}
            self._styles["base"] = widget.rich_style
        return self._styles


__all__ = ["COMPONENTS", "RowPainter", "TimeFormat", "fit", "render_row", "slim", "time_text"]
