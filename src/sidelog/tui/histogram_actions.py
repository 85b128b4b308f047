"""The app's histogram keys: zoom, jump to an error spike, hide (``tui/widgets/histogram.py``).

A mixin, so the app gains the actions with one base class. The keys work on the main
screen only: over the event detail or the timeline they would change a filter out of
sight. A jump sets the filter's ``since``/``until`` to the spike's buckets, so the
stream shows exactly those events and ``c`` (or another jump) leaves them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

from sidelog.tui.filter_actions import FilterActions

if TYPE_CHECKING:  # loaded after the UI's first frame (tui/startup.py)
    from sidelog.tui.widgets.histogram import HistogramBar


class HistogramActions:
    """Adds the histogram actions to ``SidelogApp`` (a ``FilterActions``)."""

    def _histogram(self) -> HistogramBar | None:
        from sidelog.tui.widgets.histogram import HistogramBar

        app = cast(FilterActions, self)
        bars = app.query(HistogramBar)
        if not bars or app.screen is not bars.first().screen:
            return None
        return bars.first()

    def action_histogram_zoom(self, step: int) -> None:
        """Finer (``step`` < 0) or coarser buckets in the histogram."""
        bar = self._histogram()
        if bar is not None and not bar.zoom_by(step):
            cast(FilterActions, self).notify(
                "The histogram is already at its " + ("finest" if step < 0 else "coarsest") + " zoom.",
                timeout=2,
            )

    def action_error_spike(self, direction: int) -> None:
        """Show the next (``direction`` > 0) or previous error spike of the histogram."""
        bar = self._histogram()
        if bar is None:
            return
        app = cast(FilterActions, self)
        found = bar.spike_range(direction)
        if found is None:
            where = "later" if direction > 0 else "earlier"
            app.notify(f"No {where} error spike in the histogram's range (- zooms out).", timeout=3)
            return
        app.flt = replace(app.flt, since=found[0], until=found[1])

    def action_toggle_histogram(self) -> None:
        """Hide the histogram above the stream, or show it again."""
        bar = self._histogram()
        if bar is not None:
            bar.toggle()


__all__ = ["HistogramActions"]
