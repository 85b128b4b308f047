"""The pieces of the event detail view that are plain formatting: title, fields, times.

Kept apart from the screen so the screen reads as layout and keys. Every event value is
sanitized (``safe_text``) and built into ``Content``, never markup.
"""

from __future__ import annotations

import time

import orjson
from textual.content import Content

from sidelog.events import Event
from sidelog.textsafe import clip, safe_text

MESSAGE_CHARS = 4_000
"""Characters of a message shown (the rest is one "copy as JSON" away)."""
FIELD_CHARS = 500
"""Characters shown per short field (user, url, user agent, …)."""


def title(event: Event) -> Content:
    """``event 12 · ERROR · payment``."""
    ident = f"event {event.id}" if event.id is not None else "live event (not stored)"
    return Content.assemble(
        (ident, "bold"),
        " · ",
        (event.level.upper(), "bold"),
        " · ",
        safe_text(clip(event.category, FIELD_CHARS)),
    )


def fields(event: Event) -> Content:
    """Every short field, one per line; the event time and the time sidelog received it."""
    rows: list[tuple[str, str | None]] = [
        ("id", None if event.id is None else str(event.id)),
        ("eventId", event.uid),
        ("time", when(event.timestamp)),
        ("received", when(event.received_at)),
        *([("", lag(event.timestamp, event.received_at))] if event.received_at != event.timestamp else []),
        ("type", event.level),
        ("category", event.category),
        ("source", event.source),
        ("userId", event.user_id),
        ("sessionId", event.session_id),
        ("url", event.url),
        ("userAgent", event.user_agent),
        ("showToUser", flag(event.show_to_user)),
        ("resolved", flag(event.resolved)),
        ("fingerprint", event.fingerprint),
    ]
    parts: list[str | tuple[str, str]] = []
    for name, value in rows:
        parts.append((f"{name:<12}", "bold"))
        parts.append(("—", "dim") if value is None else safe_text(clip(value, FIELD_CHARS)))
        parts.append("\n")
    return Content.assemble(*parts[:-1])


def long_text(text: str) -> Content:
    """A message, multi-line, cut at ``MESSAGE_CHARS`` with a note saying how much is left."""
    shown = safe_text(clip(text, MESSAGE_CHARS), multiline=True)
    if len(text) > MESSAGE_CHARS:
        return Content.assemble(
            shown, (f"\n({len(text) - MESSAGE_CHARS + 1:,} more characters: copy as JSON)", "dim")
        )
    return Content(shown)


def pretty_details(value: object, raw: str | None) -> str:
    """``details`` pretty-printed (sorted keys keep big objects scannable)."""
    if raw is None:
        return "(no details)"
    if value is None and raw != "null":
        return raw  # not JSON: shown as stored
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def parse_details(raw: str | None) -> object:
    """``details`` decoded (``None`` when absent or not JSON)."""
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def when(ms: int) -> str:
    """A full local time with milliseconds and zone: ``2026-11-27 10:00:00.123 +0100``."""
    local = time.localtime(ms / 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", local) + f".{ms % 1000:03d} {time.strftime('%z', local)}"


def lag(event_ms: int, received_ms: int) -> str:
    """How long after (or before) the event's own time sidelog received it."""
    delta = (received_ms - event_ms) / 1000
    size = abs(delta)
    amount = f"{size:.3f}s" if size < 60 else f"{size / 60:.1f}m" if size < 3600 else f"{size / 3600:.1f}h"
    return f"{amount} {'after' if delta > 0 else 'before'} its time"


def flag(value: bool | None) -> str | None:
    """``true``/``false``, or ``None`` for unset."""
    return None if value is None else ("true" if value else "false")


__all__ = [
    "FIELD_CHARS",
    "MESSAGE_CHARS",
    "fields",
    "long_text",
    "parse_details",
    "pretty_details",
    "title",
    "when",
]
