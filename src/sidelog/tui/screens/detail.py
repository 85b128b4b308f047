"""One event, in full: every field, pretty ``details``, and what the user saw.

Opened from the stream with Enter. The message sits beside ``userMessage`` because the
question when triaging is usually "what went wrong, and what did the user see?".
``details`` is pretty-printed and highlighted in a virtual view (``TextLines``), so a
10,000-key object opens instantly; a 100,000-character message is shown up to a bound.
Every value is sanitized and built into ``Content`` (never markup).

The screen is dismissed with ``None`` (closed), ``{"user": user_id}`` or
``{"session": session_id}``: the app applies the latter two as a stream filter.
"""

from __future__ import annotations

import time

import orjson
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from sidelog.events import Event
from sidelog.textsafe import clip, safe_text
from sidelog.tui.widgets.text_lines import TextLines

MESSAGE_CHARS = 4_000
"""Characters of a message shown (the rest is one "copy as JSON" away)."""
FIELD_CHARS = 500
"""Characters shown per short field (user, url, user agent, …)."""

DetailResult = dict[str, str] | None
"""What the screen dismisses with: ``None``, ``{"user": …}`` or ``{"session": …}``."""


class EventDetailScreen(Screen[DetailResult]):
    """Every field of one event; copy it as JSON or filter the stream to its user/session."""

    DEFAULT_CSS = """
    EventDetailScreen {
        layout: vertical;
        #detail-title { height: 1; padding: 0 1; text-style: bold; }
        #detail-top { height: auto; max-height: 50%; }
        #detail-fields { width: 56; height: auto; padding: 0 1; }
        #detail-messages { width: 1fr; height: auto; max-height: 100%; padding: 0 1; }
        .detail-label { color: $text-muted; text-style: bold; margin-top: 1; }
        #detail-json { height: 1fr; border: round $panel-lighten-2; }
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="detail.close"),
        Binding("c", "copy_json", "Copy JSON", id="detail.copy"),
        Binding("u", "filter_user", "Filter to user", id="detail.user"),
        Binding("s", "filter_session", "Filter to session", id="detail.session"),
    ]

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
        """The event shown (complete, as stored)."""

    def compose(self) -> ComposeResult:
        """Title, fields beside the two messages, then the details."""
        event = self.event
        with Vertical(id="detail"):
            yield Static(self._title(), id="detail-title")
            with Horizontal(id="detail-top"):
                yield Static(self._fields(), id="detail-fields")
                with VerticalScroll(id="detail-messages"):
                    yield Static(Content("message"), classes="detail-label")
                    yield Static(_long_text(event.message), id="detail-message")
                    yield Static(Content("what the user saw (userMessage)"), classes="detail-label")
                    yield Static(
                        _long_text(event.user_message)
                        if event.user_message is not None
                        else Content.styled("— nothing was shown to the user", "dim"),
                        id="detail-user-message",
                    )
            yield TextLines(_pretty_details(event.details), json=event.details is not None, id="detail-json")
        yield Footer()

    def on_mount(self) -> None:
        """Label the details pane and focus it for scrolling."""
        details = self.query_one("#detail-json", TextLines)
        details.border_title = "details"
        details.focus()

    def _title(self) -> Content:
        event = self.event
        ident = f"event {event.id}" if event.id is not None else "live event (not stored)"
        return Content.assemble(
            (ident, "bold"),
            " · ",
            (event.level.upper(), "bold"),
            " · ",
            safe_text(clip(event.category, FIELD_CHARS)),
        )

    def _fields(self) -> Content:
        event = self.event
        rows: list[tuple[str, str | None]] = [
            ("id", None if event.id is None else str(event.id)),
            ("eventId", event.uid),
            ("time", _when(event.timestamp)),
            ("received", _when(event.received_at)),
            ("type", event.level),
            ("category", event.category),
            ("source", event.source),
            ("userId", event.user_id),
            ("sessionId", event.session_id),
            ("url", event.url),
            ("userAgent", event.user_agent),
            ("showToUser", _flag(event.show_to_user)),
            ("resolved", _flag(event.resolved)),
            ("fingerprint", event.fingerprint),
        ]
        parts: list[str | tuple[str, str]] = []
        for name, value in rows:
            parts.append((f"{name:<12}", "bold"))
            if value is None:
                parts.append(("—", "dim"))
            else:
                parts.append(safe_text(clip(value, FIELD_CHARS)))
            parts.append("\n")
        return Content.assemble(*parts[:-1])

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer the user/session filters only when the event has one."""
        if action == "filter_user":
            return self.event.user_id is not None
        if action == "filter_session":
            return self.event.session_id is not None
        return True

    def action_close(self) -> None:
        """Back to the stream."""
        self.dismiss(None)

    def action_copy_json(self) -> None:
        """Copy the event as JSON (the terminal's clipboard, OSC 52; base64, so inert)."""
        text = orjson.dumps(self.event.to_wire(), option=orjson.OPT_INDENT_2).decode()
        self.app.copy_to_clipboard(text)
        self.notify("Event copied as JSON", timeout=2)

    def action_filter_user(self) -> None:
        """Close and filter the stream to this event's user."""
        if self.event.user_id is not None:
            self.dismiss({"user": self.event.user_id})

    def action_filter_session(self) -> None:
        """Close and filter the stream to this event's session."""
        if self.event.session_id is not None:
            self.dismiss({"session": self.event.session_id})


def _pretty_details(details: str | None) -> str:
    """``details`` pretty-printed (sorted keys keep big objects scannable)."""
    if details is None:
        return "(no details)"
    try:
        value = orjson.loads(details)
    except orjson.JSONDecodeError:
        return details
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _long_text(text: str) -> Content:
    shown = safe_text(clip(text, MESSAGE_CHARS), multiline=True)
    if len(text) > MESSAGE_CHARS:
        return Content.assemble(
            shown, (f"\n({len(text) - MESSAGE_CHARS + 1:,} more characters: copy as JSON)", "dim")
        )
    return Content(shown)


def _when(ms: int) -> str:
    local = time.localtime(ms / 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", local) + f".{ms % 1000:03d} {time.strftime('%z', local)}"


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


__all__ = ["DetailResult", "EventDetailScreen"]
