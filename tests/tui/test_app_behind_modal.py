"""Events keep arriving while a screen sits on top of the main one (help, detail, palette):
the app keeps counting, streaming and listing errors, and shows it all on return."""

from __future__ import annotations

from sidelog.config import Settings
from sidelog.tui.screens.help import HelpScreen
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.sidebar import FilterSidebar
from sidelog.tui.widgets.stream import StreamView
from tests.tui.conftest import running_app, send_events, until


async def test_events_and_errors_arriving_behind_the_help_screen(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await send_events(
            app,
            {"message": "behind the help", "category": "modal"},
            {"message": "an error behind the help", "level": "error", "category": "modal"},
        )
        assert app.engine is not None
        await until(pilot, lambda: app.engine is not None and app.engine.stored_total == 2)
        await pilot.pause(0.2)  # several counts, health and error-list refreshes happen meanwhile
        assert app.return_code is None  # nothing raised behind the modal
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        stream = app.query_one(StreamView)
        await until(pilot, lambda: {e.message for e in stream.window} >= {"behind the help"})
        errors = app.query_one(ErrorsPane)
        await until(pilot, lambda: [g.category for g in errors.groups] == ["modal"])
        sidebar = app.query_one(FilterSidebar)

        def sidebar_text() -> str:
            return " ".join(str(sidebar.get_option_at_index(i).prompt) for i in range(sidebar.option_count))

        await until(pilot, lambda: "modal" in sidebar_text())
