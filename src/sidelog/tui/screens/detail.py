"""One event, in full: every field, the stack as real lines, pretty ``details``, breadcrumbs.

Opened from the stream with Enter. The message sits beside ``userMessage`` because the
question when triaging is usually "what went wrong, and what did the user see?". Below,
one tab each: the stack (frames parsed, the app's own emphasised, libraries dimmed,
the exception chain as sections: ``StackView``), ``details`` pretty-printed and
highlighted (``TextLines``) and the Sentry breadcrumbs as a timeline
(``BreadcrumbView``). All three are virtual views, so a stack of 100,000 frames or a
10,000-key object opens at once; ``w`` wraps long lines in all of them. Every value is
sanitized and built into ``Content``/``Text`` (never markup).

``f`` on an event of an error group opens the group's user feedback (the reports
linked to it and the ``userMessage``s its events showed: ``tui/screens/feedback.py``).

The screen is dismissed with ``None`` (closed), ``{"user": user_id}`` or
``{"session": session_id}``: the app applies the latter two as a stream filter.
"""

from __future__ import annotations

import orjson
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from sidelog.events import Event
from sidelog.stackframes import stack_text
from sidelog.tui.repro import copy_bundle, is_error
from sidelog.tui.screens import detail_parts as parts
from sidelog.tui.screens.feedback import open_feedback
from sidelog.tui.screens.timeline import open_timeline
from sidelog.tui.widgets.breadcrumbs import BreadcrumbView, breadcrumb_rows
from sidelog.tui.widgets.line_view import LineView
from sidelog.tui.widgets.quiet_footer import QuietFooter
from sidelog.tui.widgets.stack_view import StackView
from sidelog.tui.widgets.text_lines import TextLines

DetailResult = dict[str, str] | None
"""What the screen dismisses with: ``None``, ``{"user": …}`` or ``{"session": …}``."""

_STACK_TITLES = {
    False: "stack · every frame (a: app frames only)",
    True: "stack · app frames only (a: show all)",
}


class EventDetailScreen(Screen[DetailResult]):
    """Every field of one event; copy it as JSON or filter the stream to its user/session."""

    DEFAULT_CSS = """
    EventDetailScreen {
        layout: vertical;
        #detail-title { height: 1; padding: 0 1; text-style: bold; }
        #detail-top { height: auto; max-height: 40%; }
        #detail-fields-box { width: auto; max-width: 60%; height: auto; max-height: 100%; }
        #detail-fields-box { overflow-x: hidden; scrollbar-size-vertical: 1; }
        #detail-fields { width: auto; height: auto; padding: 0 1; }
        #detail-messages { width: 1fr; height: auto; max-height: 100%; padding: 0 1; }
        .detail-label { color: $text-muted; text-style: bold; margin-top: 1; }
        #detail-tab-bar { height: 1; padding: 0 1; margin-top: 1; }
        #detail-views { height: 1fr; }
        #detail-views > LineView { height: 1fr; border: round $panel-lighten-2; }
        #detail-views > LineView:focus { border: round $accent; }
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="detail.close"),
        Binding("c", "copy_json", "Copy JSON", id="detail.copy"),
        Binding("u", "filter_user", "Filter to user", id="detail.user"),
        Binding("s", "filter_session", "Filter to session", id="detail.session"),
        Binding("t", "filter_trace", "Show this trace", id="detail.trace"),
        Binding("a", "toggle_in_app", "App frames/all", id="detail.in-app"),
        Binding("w", "toggle_wrap", "Wrap", id="detail.wrap"),
        Binding("right_square_bracket", "next_tab", "Next tab", id="detail.next-tab"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", show=False, id="detail.previous-tab"),
        Binding("v", "timeline", "Timeline", id="detail.timeline"),
        Binding("b", "copy_bundle", "Copy repro bundle", id="detail.bundle"),
        Binding("f", "feedback", "User feedback", id="detail.feedback"),
    ]

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
        """The event shown (complete, as stored)."""
        value = parts.parse_details(event.details)
        self._details_value = value
        self._stack = stack_text(value)
        self._crumbs = breadcrumb_rows(
            value.get("breadcrumbs") if isinstance(value, dict) else None, event.timestamp, event.message
        )
        self._views = [("detail-stack", "Stack")] if self._stack else []
        self._views.append(("detail-json", "Details"))
        if self._crumbs:
            self._views.append(("detail-crumbs", f"Breadcrumbs ({len(self._crumbs) - 1})"))

    def compose(self) -> ComposeResult:
        """Title, fields beside the two messages, then a tab each for stack, details, breadcrumbs."""
        event = self.event
        with Vertical(id="detail"):
            yield Static(parts.title(event), id="detail-title")
            with Horizontal(id="detail-top"):
                with VerticalScroll(id="detail-fields-box"):  # scrolls when the terminal is short
                    yield Static(parts.fields(event), id="detail-fields")
                with VerticalScroll(id="detail-messages"):
                    yield Static(Content("message"), classes="detail-label")
                    yield Static(parts.long_text(event.message), id="detail-message")
                    yield Static(Content("what the user saw (userMessage)"), classes="detail-label")
                    yield Static(
                        parts.long_text(event.user_message)
                        if event.user_message is not None
                        else Content.styled("— nothing was shown to the user", "dim"),
                        id="detail-user-message",
                    )
            yield Static(self._tab_bar(), id="detail-tab-bar")
            # A switcher, not TabbedContent: half the widgets, so the screen opens in half the time.
            with ContentSwitcher(initial=self._views[0][0], id="detail-views"):
                if self._stack:
                    yield StackView(self._stack, id="detail-stack")
                # Behind the stack, details are laid out when first shown (a big object costs).
                pretty = "" if self._stack else self._pretty()
                yield TextLines(pretty, json=event.details is not None, id="detail-json")
                if self._crumbs:
                    yield BreadcrumbView(self._crumbs, id="detail-crumbs")
        yield QuietFooter()

    def on_mount(self) -> None:
        """Label the views and focus the first one (the stack when there is one)."""
        self.query_one("#detail-json", LineView).border_title = "details"
        if self._stack:
            self.query_one(StackView).border_title = _STACK_TITLES[False]
        if self._crumbs:
            crumbs = self.query_one(BreadcrumbView)
            crumbs.border_title = "breadcrumbs, oldest first · time · before the event"
        self.query_one(f"#{self._views[0][0]}", LineView).focus()

    @property
    def view_shown(self) -> str:
        """The view below the fields: ``detail-stack``, ``detail-json`` or ``detail-crumbs``."""
        return self.query_one(ContentSwitcher).current or self._views[0][0]

    def show_view(self, view_id: str) -> None:
        """Show one of the views (laying out the details the first time) and give it the keys."""
        details = self.query_one("#detail-json", TextLines)
        if view_id == "detail-json" and self._stack and not details.lines[0]:
            details.set_text(self._pretty())
        self.query_one(ContentSwitcher).current = view_id
        self.query_one("#detail-tab-bar", Static).update(self._tab_bar(view_id))
        self.query_one(f"#{view_id}", LineView).focus()

    def _tab_bar(self, shown: str | None = None) -> Content:
        shown = shown or self._views[0][0]
        tabs: list[str | tuple[str, str]] = []
        for view_id, label in self._views:
            tabs.append((f" {label} ", "reverse bold" if view_id == shown else "dim"))
            tabs.append(" ")
        tabs.append(("  ] next · [ previous", "dim"))
        return Content.assemble(*tabs)

    def _pretty(self) -> str:
        return parts.pretty_details(self._details_value, self.event.details)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer the user/session filters only when the event has one, the frame toggle only with a stack."""
        if action == "filter_user":
            return self.event.user_id is not None
        if action == "filter_session":
            return self.event.session_id is not None
        if action == "filter_trace":
            return self.event.trace_id is not None
        if action == "toggle_in_app":
            return bool(self._stack)
        if action == "copy_bundle":
            return is_error(self.event)
        if action == "feedback":
            return self.event.fingerprint is not None
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

    def action_filter_trace(self) -> None:
        """Close and filter the stream to this event's trace (every path that carried its id)."""
        if self.event.trace_id is not None:
            self.dismiss({"trace": self.event.trace_id})

    def action_timeline(self) -> None:
        """This event's session (else user, else trace) in time order (tui/screens/timeline.py);
        a filter asked for in there closes this view too and applies it."""

        def filter_asked(result: object) -> None:
            if isinstance(result, dict):
                self.dismiss(result)

        open_timeline(self.app, self.event, EventDetailScreen, filter_asked)

    def action_copy_bundle(self) -> None:
        """Copy this error's repro bundle as Markdown (tui/repro.py)."""
        if is_error(self.event):
            copy_bundle(self, event=self.event)

    def action_feedback(self) -> None:
        """The group's user feedback: linked reports, and what users saw (tui/screens/feedback.py)."""
        open_feedback(self.app, self.event.fingerprint, EventDetailScreen)

    def action_toggle_in_app(self) -> None:
        """Show the app's own frames only, or every frame again (and bring the stack up)."""
        if not self._stack:
            return
        view = self.query_one(StackView)
        view.in_app_only = not view.in_app_only
        view.border_title = _STACK_TITLES[view.in_app_only]
        self.show_view("detail-stack")

    def action_toggle_wrap(self) -> None:
        """Wrap long lines in every view, or scroll them sideways again."""
        views = list(self.query(LineView))
        wrap = not views[0].wrap if views else False
        for view in views:
            view.wrap = wrap
            view.border_subtitle = "wrapped (w)" if wrap else ""

    def action_next_tab(self, step: int = 1) -> None:
        """The next (or previous) view: stack, details, breadcrumbs."""
        ids = [view_id for view_id, _ in self._views]
        current = self.view_shown
        self.show_view(ids[(ids.index(current) + step) % len(ids)] if current in ids else ids[0])


__all__ = ["DetailResult", "EventDetailScreen"]
