"""Running the UI as the ``sidelog`` command: the app, then one line on how it ended."""

from __future__ import annotations

import sys

from sidelog.config import Settings


def run_app(settings: Settings) -> int:
    """Run the UI until ``q``; print a one-line failure or drain summary afterwards."""
    from sidelog.tui.app import SidelogApp

    app = SidelogApp(settings, handle_signals=True)
    app.run()
    if app.failure is not None:
        print(f"sidelog: {app.failure}", file=sys.stderr)
        return 1
    report = app.stop_report
    if report is not None:
        stored = app.stop_counters.stored if app.stop_counters is not None else 0
        print(
            f"stopped: {stored} stored this run, {report.unsaved} unsaved, "
            f"{report.write_failed} failed writes",
            file=sys.stderr,
        )
    return app.return_code or 0
