"""The footer at the narrowest supported width still says how to quit and how to get help."""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from sidelog.config import Settings
from tests.tui.conftest import running_app, until


@pytest.mark.parametrize("width", [80, 120])
async def test_quit_and_help_stay_on_screen(settings: Settings, width: int) -> None:
    async with running_app(settings, size=(width, 24)) as (app, pilot):
        footer = app.query_one(Footer)

        def shown() -> set[str]:
            """Keys drawn whole, left of the palette key docked at the right edge."""
            keys = list(footer.query(FooterKey))
            edge = min((key.region.x for key in keys if key.key == "ctrl+p"), default=width)
            return {key.key for key in keys if key.key != "ctrl+p" and 0 < key.region.right <= edge}

        # The footer composes again whenever focus changes the active keys: wait for it to settle.
        await until(pilot, lambda: {"q", "question_mark"} <= shown(), timeout=5)
