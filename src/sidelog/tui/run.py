"""Running the UI as the ``sidelog`` command: the app, then one line on how it ended.

``sidelog run`` without ``--to`` also comes here, with ``child``: the wrapped command
starts once the engine listens (its output reaches the engine through the engine's
own socket endpoint, like any app's), runs while the UI shows it, and is stopped
(TERM, then KILL) when the user quits. The command's exit status becomes sidelog's.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from textual import events, on, work

from sidelog.config import Settings
from sidelog.tui.app import SidelogApp

ChildRunner = Callable[[list[tuple[str, str]]], Awaitable[int]]
"""Runs the wrapped command given the engine's endpoints; returns its exit status."""


class _WrappingApp(SidelogApp):
    """The UI with one wrapped command beside it (``sidelog run``)."""

    def __init__(self, settings: Settings, child: ChildRunner) -> None:
        super().__init__(settings, handle_signals=True)
        self._child = child
        self.child_status: int | None = None
        """The wrapped command's exit status, once it has ended."""

    @on(events.Mount)
    def _start_child(self, _: events.Mount) -> None:
        self._run_child()

    @work(name="wrapped-command", group="child", exclusive=True, exit_on_error=False)
    async def _run_child(self) -> None:
        await self.ready.wait()
        engine = self.engine
        if engine is None:
            return
        self.child_status = await self._child(list(engine.endpoints))
        self.notify(f"The wrapped command ended with status {self.child_status}.", markup=False)


def run_app(settings: Settings, *, child: ChildRunner | None = None) -> int:
    """Run the UI until ``q``; print a one-line failure or drain summary afterwards."""
    app = SidelogApp(settings, handle_signals=True) if child is None else _WrappingApp(settings, child)
    app.run()
    if not print_outcome(app):
        return 1
    if isinstance(app, _WrappingApp) and app.child_status is not None:
        return app.child_status
    return app.return_code or 0


def print_outcome(app: SidelogApp, note: str | None = None) -> bool:
    """After ``app.run()``: print why it could not start (and return False), or ``note``
    and the drain summary (and return True). Every way of running the UI ends with it."""
    if app.failure is not None:
        print(f"sidelog: {app.failure}", file=sys.stderr)
        return False
    if note is not None:
        print(note, file=sys.stderr)
    report = app.stop_report
    if report is not None:
        stored = app.stop_counters.stored if app.stop_counters is not None else 0
        print(
            f"stopped: {stored} stored this run, {report.unsaved} unsaved, "
            f"{report.write_failed} failed writes",
            file=sys.stderr,
        )
    return True
