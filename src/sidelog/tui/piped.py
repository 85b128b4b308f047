"""The UI with piped stdin as a source: ``CMD | sidelog``.

Once the engine listens, a worker reads the pipe (``sidelog.sources.stdin``) and its
lines arrive like any app's, through the engine's own socket endpoint. The keys
come from the terminal, which ``take_stdin`` put on descriptor 0 before the app
started. When the pipe ends the UI stays up (the events are there to triage) and
says how the input ended; quitting while the pipe is open stops reading it.
"""

from __future__ import annotations

from typing import IO

from textual import events, on, work

from sidelog.config import Settings
from sidelog.sources.stdin import StdinError, feed_stdin, own_address
from sidelog.tui.app import SidelogApp
from sidelog.tui.run import print_outcome

__all__ = ["PipedApp", "run_piped_app"]


class PipedApp(SidelogApp):
    """``SidelogApp`` plus one worker that feeds it the lines of ``stdin``."""

    def __init__(self, settings: Settings, stdin: IO[bytes]) -> None:
        super().__init__(settings, handle_signals=True)
        self._stdin = stdin
        self.stdin_outcome: str | None = None
        """How reading stdin ended (a summary, or why it failed), once it has."""

    @on(events.Mount)
    def _start_reading(self, _: events.Mount) -> None:
        self._read_stdin()

    @work(name="stdin-source", group="stdin", exclusive=True, exit_on_error=False)
    async def _read_stdin(self) -> None:
        await self.ready.wait()
        engine = self.engine
        if engine is None:
            return
        try:
            summary = await feed_stdin(own_address(engine.endpoints), self._stdin)
        except StdinError as exc:
            self.stdin_outcome = f"stdin: {exc}"
            self.notify(self.stdin_outcome, severity="error", markup=False)
            return
        self.stdin_outcome = f"stdin ended: {summary.describe()}"
        self.notify(self.stdin_outcome, markup=False)


def run_piped_app(settings: Settings, stdin: IO[bytes]) -> int:
    """Run the UI over piped ``stdin`` until ``q``; print how it ended, as ``sidelog`` does."""
    app = PipedApp(settings, stdin)
    app.run()
    if not print_outcome(app, app.stdin_outcome):
        return 1
    return app.return_code or 0
