"""The main screen: it tells the app when it is on top again after another screen covered it.

While the command palette, the help, a prompt or the detail view covers the main screen,
Textual redraws the whole dimmed main screen behind it for every change underneath, so a
live update per frame would make every keystroke in the palette cost a full-screen frame.
The app therefore holds live updates while it is covered (``tui/held.py``) and applies them
in one go when this screen says it is back.
"""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen


class MainScreen(Screen[None]):
    """The default screen of ``SidelogApp``."""

    class Uncovered(Message):
        """The main screen is the active screen again."""

    def on_screen_resume(self) -> None:
        self.post_message(self.Uncovered())
