"""One error group's user feedback: what users reported, and what they were shown.

Opened with ``f`` from the detail view of an event of an error group. Two lists, read
by ``store/feedback_views.py`` (bounded, indexed queries):

- **reports**: the users' reports (``sidelog.reportIssue``, ``log.feedback()``, ``POST
  /v1/feedback``) linked to the group, newest first: when, the email, the session and
  user, and the text;
- **what users saw**: each ``userMessage`` the group's events showed, how many times
  and in how many sessions, and how often a report from the same session followed within
  30 minutes. A message after which users keep reporting is a message that does not help
  them.

Text is sanitized and built into ``Content``, never markup; the two lists scroll with the
keyboard in one pane. ``↑``/``↓`` move the ``▶`` between reports (past the first or
the last they scroll the pane), ``enter`` opens the marked report's event in the detail
view (a filter asked for there closes this view and applies), ``r`` reads again,
``escape`` goes back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Footer, Static

from sidelog.engine import Engine
from sidelog.events import Event, now_ms
from sidelog.store.feedback_links import WINDOW_MS
from sidelog.store.feedback_views import (
    FEEDBACK_SCAN,
    GROUP_SCAN,
    FeedbackReport,
    GroupFeedback,
    group_feedback,
)
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui import humanize
from sidelog.tui.repro import app_engine

TEXT_CHARS = 400
"""Characters of a report or a shown message on screen (the rest is in the event)."""
FIELD_CHARS = 60
"""Characters of an email, session or user id on screen."""
FeedbackResult = dict[str, str] | None
"""What the screen dismisses with: ``None``, or a filter the detail of a report asked for."""
FILTER_KEYS = ("user", "session", "fingerprint", "trace")
"""The filters a detail view may ask for (``EventDetailScreen``'s result)."""


class FeedbackBody(VerticalScroll):
    """The scrolling pane of both lists: ``↑``/``↓`` move between reports first."""

    def action_scroll_up(self) -> None:
        """The previous report, or scroll up from the first."""
        screen = self.screen
        if not (isinstance(screen, FeedbackScreen) and screen.move_report(-1)):
            super().action_scroll_up()

    def action_scroll_down(self) -> None:
        """The next report, or scroll down from the last."""
        screen = self.screen
        if not (isinstance(screen, FeedbackScreen) and screen.move_report(1)):
            super().action_scroll_down()


class FeedbackScreen(Screen[FeedbackResult]):
    """The reports linked to one error group and the user-facing messages its events showed."""

    DEFAULT_CSS = """
    FeedbackScreen {
        layout: vertical;
        #feedback-title { height: 1; padding: 0 1; text-style: bold; }
        #feedback-note { height: auto; padding: 0 1; color: $text-muted; }
        #feedback-body { height: 1fr; border: round $panel-lighten-2; padding: 0 1; }
        #feedback-body:focus { border: round $accent; }
        .feedback-heading { text-style: bold; margin-top: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="feedback.close"),
        Binding("enter", "open_report", "Open report", id="feedback.open-report"),
        Binding("r", "reload", "Read again", id="feedback.reload"),
    ]

    def __init__(
        self,
        engine: Engine,
        fingerprint: str,
        *,
        detail: Callable[[Event], Screen[Any]] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """``fingerprint``: the error group; ``detail`` builds the event detail screen that
        ``enter`` opens for a report (``EventDetailScreen``, passed in: that screen opens
        this one); ``clock`` dates the rows (tests freeze it)."""
        super().__init__()
        self._detail = detail
        self.engine = engine
        self.fingerprint = fingerprint
        """The group shown."""
        self.feedback: GroupFeedback | None = None
        """What was read, once loaded."""
        self.group: ErrorGroup | None = None
        self.selected = 0
        """The report marked ``▶`` (what ``enter`` opens), an index into the reports shown."""
        self._clock = clock

    def compose(self) -> ComposeResult:
        """Title, a note (loading, bounds), the two lists in one scrolling pane, the footer."""
        yield Static(Content.assemble(("Feedback", "bold"), " · error group"), id="feedback-title")
        yield Static(Content("loading…"), id="feedback-note")
        with FeedbackBody(id="feedback-body", can_focus=True):
            yield Static(Content("Reports linked to this group"), classes="feedback-heading")
            yield Static(Content(""), id="feedback-reports")
            yield Static(Content("What users saw (userMessage)"), classes="feedback-heading")
            yield Static(Content(""), id="feedback-messages")
        yield Footer()

    def on_mount(self) -> None:
        """Give the pane the keys and read the group's feedback."""
        self.query_one("#feedback-body").focus()
        self.load()

    @work(name="feedback-load", group="feedback", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Read the group and its feedback, then show them."""
        reader = self.engine.reader
        try:
            group = await reader.group(self.fingerprint)
            feedback = await group_feedback(reader, self.fingerprint)
        except Exception as exc:  # shown, not swallowed
            self.query_one("#feedback-note", Static).update(Content(f"cannot read the feedback: {exc}"))
            return
        self.show(group, feedback)

    def show(self, group: ErrorGroup | None, feedback: GroupFeedback) -> None:
        """Fill the title, the note and both lists."""
        self.group, self.feedback = group, feedback
        self.query_one("#feedback-title", Static).update(_title(group, self.fingerprint))
        self.query_one("#feedback-note", Static).update(_note(group, feedback, self._clock()))
        now = self._clock()
        self.selected = min(self.selected, max(0, len(feedback.reports) - 1))
        self.query_one("#feedback-reports", Static).update(_reports(feedback, now, self.selected))
        self.query_one("#feedback-messages", Static).update(_messages(feedback, now))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` only where there is a report to open."""
        if action == "open_report":
            return self._detail is not None and self.feedback is not None and bool(self.feedback.reports)
        return True

    def move_report(self, step: int) -> bool:
        """Mark the next (``step`` 1) or previous (-1) report; ``False`` past either end."""
        feedback = self.feedback
        if feedback is None or not 0 <= self.selected + step < len(feedback.reports):
            return False
        self.selected += step
        reports = self.query_one("#feedback-reports", Static)
        reports.update(_reports(feedback, self._clock(), self.selected))
        width = reports.content_region.width
        lines = sum(_report_lines(report, width) for report in feedback.reports[: self.selected])
        area = reports.virtual_region
        height = _report_lines(feedback.reports[self.selected], width)
        here = Region(area.x, area.y + lines, area.width, height)
        self.query_one(FeedbackBody).scroll_to_region(here, animate=False, immediate=True)
        return True

    def action_open_report(self) -> None:
        """The marked report's event in the detail view."""
        feedback = self.feedback
        if feedback is not None and feedback.reports:
            self._open_event(feedback.reports[self.selected].id)

    @work(name="feedback-open", group="feedback-open", exclusive=True, exit_on_error=False)
    async def _open_event(self, event_id: int) -> None:
        event = await self.engine.event(event_id)
        if event is None:
            self.notify("That report is gone (retention or clear).", severity="warning")
            return

        def closed(result: object) -> None:
            if isinstance(result, dict):
                self.dismiss({key: str(value) for key, value in result.items() if key in FILTER_KEYS})

        assert self._detail is not None  # offered only with it (check_action)
        self.app.push_screen(self._detail(event), closed)

    def action_close(self) -> None:
        """Back to the event."""
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read the feedback again (new reports arrive while you look)."""
        self.query_one("#feedback-note", Static).update(Content("loading…"))
        self.load()


def _title(group: ErrorGroup | None, fingerprint: str) -> Content:
    what = f"{group.category}: {group.message}" if group is not None else fingerprint
    return Content.assemble(("Feedback", "bold"), " · ", safe_text(clip(what, 160)))


def _note(group: ErrorGroup | None, feedback: GroupFeedback, now: int) -> Content:
    parts = []
    if group is None:
        parts.append("the group is gone (retention or clear); its stored events and reports are shown")
    else:
        status = group.status + (" (regressed)" if group.regressed else "")
        seen = humanize.age(group.last_seen, now)
        parts.append(f"{group.count:,} events · {status} · last seen {seen}")
    reports = feedback.reports_total
    parts.append(f"{reports:,} report{'' if reports == 1 else 's'}")
    if feedback.partial:
        parts.append(f"from the newest {GROUP_SCAN:,} events and {FEEDBACK_SCAN:,} reports")
    return Content(" · ".join(parts) + " · r: read again · escape: back")


def _when(ms: int, now: int) -> str:
    return humanize.clock(ms, level=humanize.date_level(ms, now), millis=False)


def _report_lines(report: FeedbackReport, width: int) -> int:
    """Lines a report takes in a list ``width`` cells wide: its header, and its text
    (line breaks are shown as ``␊``, so only wrapping adds lines)."""
    text = len(safe_text(clip(report.message, TEXT_CHARS))) + 6  # indent and quotes
    return 1 + max(1, -(-text // max(1, width)))


def _reports(feedback: GroupFeedback, now: int, selected: int = 0) -> Content:
    if not feedback.reports:
        return Content.styled(
            "No report names this group. Reports link to the errors their session had in the 30 "
            "minutes before (sidelog.reportIssue, log.feedback, POST /v1/feedback).",
            "dim",
        )
    lines: list[Content] = []
    for index, report in enumerate(feedback.reports):
        who: list[str | tuple[str, str]] = [
            ("✉ " + safe_text(clip(report.email, FIELD_CHARS)), "$text-accent")
            if report.email
            else ("no email", "dim"),
        ]
        if report.session_id is not None:
            who += ["  session ", (safe_text(clip(report.session_id, FIELD_CHARS)), "$text-secondary")]
        if report.user_id is not None:
            who += ["  user ", (safe_text(clip(report.user_id, FIELD_CHARS)), "$text-secondary")]
        lines.append(
            Content.assemble(
                ("▶ ", "bold $accent") if index == selected else "  ",
                (_when(report.timestamp, now), "$text-muted"),
                "  ",
                *who,
                "\n    ",
                ("“", "dim"),
                safe_text(clip(report.message, TEXT_CHARS)),
                ("”", "dim"),
            )
        )
    more = feedback.reports_total - len(feedback.reports)
    if more > 0:
        lines.append(Content.styled(f"… {more:,} older reports not listed", "dim"))
    return Content("\n").join(lines)


def _messages(feedback: GroupFeedback, now: int) -> Content:
    if not feedback.messages:
        return Content.styled(
            "No event of this group carried a userMessage: send what the user was shown as "
            "userMessage to learn which messages lead to reports.",
            "dim",
        )
    lines: list[Content] = []
    minutes = WINDOW_MS // 60_000
    for shown in feedback.messages:
        share = shown.followed_share
        if share is None:
            followed: tuple[str, str] = ("no session: reports cannot be tied to it", "dim")
        else:
            percent = f"{math.floor(share * 100)}%"
            style = "bold $text-warning" if shown.followed else "$text-success"
            followed = (f"{shown.followed:,} followed by a report within {minutes} min ({percent})", style)
        sessions = f"{shown.sessions:,} session{'' if shown.sessions == 1 else 's'}"
        lines.append(
            Content.assemble(
                ("“", "dim"),
                (safe_text(clip(shown.text, TEXT_CHARS)), "bold"),
                ("”", "dim"),
                "\n    ",
                f"shown {shown.shown:,}× in {sessions} · ",
                followed,
                (f" · last {humanize.age(shown.last_shown, now)}", "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def open_feedback(app: App[Any], fingerprint: str | None, detail: Callable[[Event], Screen[Any]]) -> None:
    """Open the feedback of ``fingerprint``'s group, or say in one toast why not; ``detail``
    builds the event detail screen for its reports.

    A filter asked for in the detail of a report (``u``, ``s``, ``t``) is applied to the
    app's filter (``flt``), as the app applies the stream's own detail views.
    """
    engine = app_engine(app)
    if fingerprint is None:
        app.notify("This event belongs to no error group.", severity="warning")
    elif engine is None:
        app.notify("sidelog is not running yet.", severity="warning")
    else:

        def closed(result: FeedbackResult) -> None:
            if result and hasattr(app, "flt"):
                app.flt = replace(app.flt, **result)

        app.push_screen(FeedbackScreen(engine, fingerprint, detail=detail), closed)


__all__ = ["FeedbackBody", "FeedbackResult", "FeedbackScreen", "open_feedback"]
