"""One session as one timeline: every source's events in the order they happened.

Triage asks "what did this user do, what did the API answer, what broke, and what were
they shown?": the browser click, the API request, the server error and the
``userMessage`` come from different sources and arrive in any order, so the stream (in
arrival order, mixed with everyone else) cannot answer it. ``v`` on an event (stream,
event detail, errors pane) opens its session here, ordered by event time with the id
breaking ties (``store/timeline.py``); ``v`` again switches to its user, then its trace.
An event without a session starts at its user, then its trace; with none of them, a
toast says so and nothing opens.

The newest ``TIMELINE_LIMIT`` events are listed (a line says how many earlier ones
exist), the cursor starts on the event it was opened from (``▶``), Enter opens an
event's detail, ``b`` copies an error's repro bundle and Escape goes back. Text is
sanitized and built into ``Content``, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from sidelog.engine import Engine
from sidelog.events import Event, now_ms
from sidelog.store.timeline import TIMELINE_LIMIT, Scope, Timeline, read_timeline, scope_value, scopes_of
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize
from sidelog.tui.repro import app_engine, copy_bundle, is_error

ROW_CHARS = 300
"""Characters of a message (and of what the user saw) shown per row."""
_LEVEL_STYLES = {
    "debug": "$text-muted",
    "info": "$text-success",
    "warn": "bold $text-warning",
    "error": "bold $text-error",
}

TimelineResult = dict[str, str] | None
"""What the screen dismisses with: ``None``, or a filter an event detail asked for."""
DetailFactory = Callable[[Event], Screen[Any]]
"""Builds the event detail screen (``EventDetailScreen``)."""


class TimelineScreen(Screen[TimelineResult]):
    """The events of one session (or user, or trace), oldest first, by event time."""

    DEFAULT_CSS = """
    TimelineScreen {
        layout: vertical;
        #timeline-title { height: 1; padding: 0 1; text-style: bold; }
        #timeline-note { height: auto; padding: 0 1; color: $text-muted; }
        #timeline-list { height: 1fr; border: round $panel-lighten-2; }
        #timeline-list:focus { border: round $accent; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="timeline.close"),
        Binding("v", "next_scope", "Session/user/trace", id="timeline.scope"),
        Binding("b", "copy_bundle", "Copy repro bundle", id="timeline.bundle"),
    ]

    def __init__(
        self,
        engine: Engine,
        anchor: Event,
        detail: DetailFactory,
        scope: Scope | None = None,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """``anchor``: the event it was opened from; ``detail``: the event detail screen Enter
        opens (passed in: that screen opens timelines too); ``scope``: what to line up (default:
        the first of session, user, trace that ``anchor`` has)."""
        super().__init__()
        self._detail = detail
        self.engine = engine
        self.origin = anchor
        """The event the timeline was opened from (marked ``▶``)."""
        self.scopes = scopes_of(anchor)
        """The scopes ``v`` cycles through (those the anchor has)."""
        if not self.scopes:
            raise ValueError("the event has no session, user or trace to line up")
        self.scope: Scope = scope if scope in self.scopes else self.scopes[0]
        """What the timeline lines up (the anchor's session, user or trace)."""
        self.timeline: Timeline | None = None
        """The events shown, once loaded."""
        self._clock = clock

    def compose(self) -> ComposeResult:
        """A title, a note (loading, left-out events), the list and the footer."""
        yield Static(self._title(), id="timeline-title")
        yield Static(Content("loading…"), id="timeline-note")
        yield OptionList(id="timeline-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Give the list the keys and read the timeline."""
        self.query_one("#timeline-list", OptionList).focus()
        self.load()

    def _title(self) -> Content:
        value = scope_value(self.origin, self.scope) or ""
        return Content.assemble(
            ("Timeline", "bold"), " · ", self.scope, " ", (safe_text(clip(value, 120)), "$text-accent")
        )

    @work(name="timeline-load", group="timeline", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Read the scope's newest events and list them, the cursor on the anchor."""
        value = scope_value(self.origin, self.scope)
        if value is None:
            return
        try:
            timeline = await read_timeline(self.engine.reader, self.scope, value, around=self.origin)
        except Exception as exc:  # shown, not swallowed
            self.query_one("#timeline-note", Static).update(Content(f"cannot read the timeline: {exc}"))
            return
        self.show(timeline)

    def show(self, timeline: Timeline) -> None:
        """List ``timeline``'s events and say what was left out."""
        self.timeline = timeline
        events = timeline.events
        level = max((humanize.date_level(e.timestamp, self._clock()) for e in events), default=0)
        options = [self._option(event, level) for event in events]
        listing = self.query_one("#timeline-list", OptionList)
        listing.set_options(options)
        anchor = next((i for i, e in enumerate(events) if e.id == self.origin.id), None)
        listing.highlighted = anchor if anchor is not None else (len(events) - 1 if events else None)
        self.query_one("#timeline-title", Static).update(self._title())
        self.query_one("#timeline-note", Static).update(self._note(timeline, anchor is not None))
        self.refresh_bindings()

    def _note(self, timeline: Timeline, anchored: bool) -> Content:
        count = len(timeline.events)
        if count == 0:
            return Content(
                "No stored event of this " + timeline.scope + " (retention may have removed them)."
            )
        shown = f"{count:,} event{'' if count == 1 else 's'} by event time, oldest first"
        if timeline.later:
            shown = (
                f"{count:,} events around the one you came from; {timeline.earlier:,} earlier "
                f"and {timeline.later:,} later ones not shown"
            )
        elif timeline.earlier:
            shown = f"the newest {TIMELINE_LIMIT:,} events; {timeline.earlier:,} earlier ones not shown"
        if not anchored:
            shown += " (the event you came from is not among them)"
        others = [scope for scope in self.scopes if scope != self.scope]
        switch = f" · v: by {', then '.join(others)}" if others else ""
        return Content(shown + switch + " · enter: detail · b: repro bundle of an error")

    def _option(self, event: Event, level: int) -> Option:
        mark = ("▶ ", "bold $accent") if event.id == self.origin.id else ("  ", "")
        style = _LEVEL_STYLES.get(event.level, "")
        parts: list[str | tuple[str, str]] = [
            mark,
            (humanize.clock(event.timestamp, level=level), "$text-muted"),
            " ",
            (f"{event.level.upper():<5}", style),
            " ",
            (f"{safe_text(clip(event.source, 12)):<12}", "$text-secondary"),
            " ",
            (f"{safe_text(clip(event.category, 16)):<16}", "$text-primary"),
            "  ",
            safe_text(clip(event.message, ROW_CHARS)),
        ]
        if event.user_message is not None:
            parts += [
                "\n      ",
                ("↳ the user saw: ", "$text-muted"),
                safe_text(clip(event.user_message, ROW_CHARS)),
            ]
        return Option(Content.assemble(*parts), id=None if event.id is None else str(event.id))

    # ------------------------------------------------------------------ actions

    @property
    def highlighted_event(self) -> Event | None:
        """The event under the cursor."""
        listing = self.query_one("#timeline-list", OptionList)
        events = self.timeline.events if self.timeline is not None else []
        index = listing.highlighted
        return events[index] if index is not None and 0 <= index < len(events) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Switch scope only when the anchor has another; copy a bundle only on an error."""
        if action == "next_scope":
            return len(self.scopes) > 1
        if action == "copy_bundle":
            return is_error(self.highlighted_event)
        return True

    def on_option_list_option_highlighted(self) -> None:
        """The cursor moved: ``b`` may have changed availability."""
        self.refresh_bindings()

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        """Enter on an event: its detail (a filter asked for there closes the timeline too)."""
        message.stop()
        event = self.highlighted_event
        if event is None:
            return

        def closed(result: object) -> None:
            if isinstance(result, dict):
                self.dismiss(cast(TimelineResult, result))

        self.app.push_screen(self._detail(event), closed)

    def action_close(self) -> None:
        """Back to where the timeline was opened from."""
        self.dismiss(None)

    def action_next_scope(self) -> None:
        """The same event's next scope: session, then user, then trace."""
        if len(self.scopes) > 1:
            self.scope = self.scopes[(self.scopes.index(self.scope) + 1) % len(self.scopes)]
            self.query_one("#timeline-note", Static).update(Content("loading…"))
            self.load()

    def action_copy_bundle(self) -> None:
        """Copy the highlighted error's repro bundle."""
        event = self.highlighted_event
        if is_error(event):
            copy_bundle(self, event=event)


def open_timeline(
    app: App[Any],
    event: Event | None,
    detail: DetailFactory,
    on_filter: Callable[[TimelineResult], None] | None = None,
) -> None:
    """Open ``event``'s timeline, or say in one toast why there is none.

    ``on_filter`` receives a filter an event detail inside the timeline asked for.
    """
    engine = app_engine(app)
    if event is None:
        app.notify("No event is highlighted.", severity="warning")
    elif engine is None:
        app.notify("sidelog is not running yet.", severity="warning")
    elif not scopes_of(event):
        app.notify("This event has no session, user or trace: nothing to line up.", severity="warning")
    else:
        app.push_screen(TimelineScreen(engine, event, detail), on_filter)


__all__ = ["DetailFactory", "TimelineResult", "TimelineScreen", "open_timeline"]
