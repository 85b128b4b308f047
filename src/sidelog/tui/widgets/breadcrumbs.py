"""Sentry breadcrumbs as a timeline: what the app did in the seconds before the error.

Receivers keep a Sentry event's breadcrumbs in ``details.breadcrumbs`` as a list of
``{timestamp, category, message, level, type, data}``; the timestamp is seconds since
the epoch (a float) or ISO-8601. Each becomes one line, oldest first: the clock time,
how long before the event it happened, level, category, message and a compact ``data``;
the event itself closes the timeline. Every field may have any type, so each is read
defensively, and every piece is sanitized (``safe_text``) before it is shown.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import orjson
from rich.style import Style
from rich.text import Text

from sidelog.textsafe import clip, safe_text
from sidelog.tui.widgets.line_view import LineView

MAX_CRUMBS = 1_000
"""Breadcrumbs shown (Sentry's SDKs keep 100 by default)."""
DATA_CHARS = 300
"""Characters of a breadcrumb's ``data`` shown."""
LEVELS = {"debug", "info", "warning", "error", "fatal", "log"}


def crumb_ms(value: object) -> int | None:
    """A breadcrumb timestamp (epoch seconds or ISO-8601) as epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        return int(seconds * 1000) if 0 <= seconds < 1e11 else None
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def breadcrumb_rows(crumbs: object, event_ms: int, event_message: str) -> list[tuple[str, str]]:
    """``(line, level)`` per breadcrumb, then one for the event itself; ``[]`` if none."""
    if not isinstance(crumbs, list) or not crumbs:
        return []
    rows: list[tuple[str, str]] = []
    for crumb in crumbs[-MAX_CRUMBS:]:
        if not isinstance(crumb, dict):
            continue
        ms = crumb_ms(crumb.get("timestamp"))
        level = str(crumb.get("level") or "info").lower()
        level = level if level in LEVELS else "info"
        rows.append((_line(ms, event_ms, level, crumb), level))
    if rows:
        rows.append(
            (
                _line(event_ms, event_ms, "event", {"category": "this event", "message": event_message}),
                "event",
            )
        )
    return rows


def _line(ms: int | None, event_ms: int, level: str, crumb: dict[str, Any]) -> str:
    if ms is None:
        clock, before = "--:--:--.---", ""
    else:
        clock = time.strftime("%H:%M:%S", time.localtime(ms / 1000)) + f".{ms % 1000:03d}"
        delta = (ms - event_ms) / 1000
        before = "0s" if delta == 0 else f"{delta:+.1f}s" if abs(delta) < 100 else f"{delta:+.0f}s"
    category = _field(crumb.get("category") or crumb.get("type") or "", 16)
    message = _field(crumb.get("message") or "", 2000)
    data = crumb.get("data")
    extra = ""
    if data not in (None, {}, []):
        try:
            extra = "  " + _field(orjson.dumps(data).decode(), DATA_CHARS)
        except TypeError:
            extra = ""
    return f"{clock} {before:>8}  {level.upper():<7} {category:<16} {message}{extra}"


def _field(value: object, limit: int) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return safe_text(clip(text, limit))


class BreadcrumbView(LineView):
    """The breadcrumbs of one event, one line each, coloured by level."""

    COMPONENT_CLASSES = {"crumb--debug", "crumb--info", "crumb--warning", "crumb--error", "crumb--event"}

    DEFAULT_CSS = """
    BreadcrumbView {
        & > .crumb--debug { color: $text-muted; }
        & > .crumb--info { color: $text; }
        & > .crumb--warning { color: $text-warning; }
        & > .crumb--error { color: $text-error; }
        & > .crumb--event { color: $text-error; text-style: bold reverse; }
    }
    """

    def __init__(self, rows: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows
        """``(line, level)`` per breadcrumb, the event last (see ``breadcrumb_rows``)."""

    def line_count(self) -> int:
        """Breadcrumbs plus the event."""
        return len(self.rows)

    def line_text(self, index: int) -> Text:
        """One breadcrumb, coloured by level."""
        line, level = self.rows[index]
        name = {"fatal": "error", "log": "info"}.get(level, level)
        style: Style = self.get_component_rich_style(f"crumb--{name}")
        return Text(line, style)

    def widest_hint(self) -> int:
        """The widest breadcrumb (few enough to measure)."""
        return max((len(line) for line, _ in self.rows), default=0)


__all__ = ["BreadcrumbView", "breadcrumb_rows", "crumb_ms"]
