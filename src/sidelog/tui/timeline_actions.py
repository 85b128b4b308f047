"""The app's ``v`` key: the highlighted event's timeline (``tui/screens/timeline.py``).

A mixin, so the app gains the action with one base class: on the main screen the
highlighted event is the stream's cursor, or, when the errors pane has the keyboard,
the newest event of the highlighted group. The event detail and the timeline bind
``v`` themselves, to the event they show.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from sidelog.tui.filter_actions import FilterActions

FILTER_FIELDS = ("user", "session", "fingerprint", "trace")
"""What an event detail opened inside a timeline may ask the stream to filter by."""


class TimelineActions:
    """Adds ``action_timeline`` to ``SidelogApp`` (a ``FilterActions``)."""

    def action_timeline(self) -> None:
        """The highlighted event's session (else user, else trace) as one timeline."""
        # Imported here: they load the store, which the UI's first frame must not (tui/startup.py).
        from sidelog.tui.screens.detail import EventDetailScreen
        from sidelog.tui.screens.timeline import open_timeline
        from sidelog.tui.widgets.errors import ErrorsPane
        from sidelog.tui.widgets.stream import StreamView

        app = cast(FilterActions, self)
        focused = app.focused
        if isinstance(focused, ErrorsPane) and focused.highlighted_group is not None:
            fingerprint = focused.highlighted_group.fingerprint
            app.run_worker(self._group_timeline(fingerprint), name="timeline-group", exclusive=True)
            return
        streams = app.query(StreamView)
        open_timeline(
            app, streams.first().cursor_event if streams else None, EventDetailScreen, self._filter_asked
        )

    async def _group_timeline(self, fingerprint: str) -> None:
        from sidelog.store.timeline import read_group_event
        from sidelog.tui.repro import app_engine
        from sidelog.tui.screens.detail import EventDetailScreen
        from sidelog.tui.screens.timeline import open_timeline

        app = cast(FilterActions, self)
        engine = app_engine(app)
        event = None
        if engine is not None:
            _, event = await read_group_event(engine.reader, fingerprint)
        if event is None and engine is not None:
            app.notify("That error group has no stored event left.", severity="warning")
            return
        open_timeline(app, event, EventDetailScreen, self._filter_asked)

    def _filter_asked(self, result: Any) -> None:
        """An event detail inside the timeline asked for a stream filter: apply it."""
        if isinstance(result, dict):
            app = cast(FilterActions, self)
            changes: dict[str, Any] = {k: v for k, v in result.items() if k in FILTER_FIELDS}
            if changes:
                app.flt = replace(app.flt, **changes)


__all__ = ["FILTER_FIELDS", "TimelineActions"]
