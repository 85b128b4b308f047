"""One stream row as a ``Strip``: fixed columns, sanitized text, no markup anywhere.

Kept apart from the widget so the rules for what a row shows (and what it may never
contain) read in one place. Segments are built directly from ``safe_text`` output:
nothing here is parsed as markup and no control character survives to the terminal.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from sidelog.events import Event
from sidelog.textsafe import clip, safe_text

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

_LEVEL_LABELS = {"debug": "DEBUG", "info": "INFO ", "warn": "WARN ", "error": "ERROR"}


def render_row(event: Event, width: int, styles: dict[str, Style], selected: bool) -> Strip:
    """``event`` as exactly ``width`` cells: time, level, category, source, user, message.

    Narrow panes drop source (< 100 cells), user (< 80) and category (< 60) so the
    message keeps room. ``styles`` holds ``base`` plus every name in ``COMPONENTS``.
    """
    base = styles["base"]
    stamp = event.timestamp
    clock = time.strftime("%H:%M:%S", time.localtime(stamp / 1000))
    wide = width >= 100
    columns: list[tuple[str, Style]] = [
        (f"{clock}.{stamp % 1000:03d}" if wide else clock, styles["time"]),
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


__all__ = ["COMPONENTS", "fit", "render_row", "slim"]
