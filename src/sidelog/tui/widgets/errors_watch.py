"""What changed since you looked: the regression bell and the "new" marks of the errors pane.

- **Regressions.** When an error arrives in a resolved group the store reopens it as
  regressed. Each time the pane reloads (at most once a second while errors arrive)
  it asks the store for regressed groups active since its last look
  (store/group_marks.py) and rings the terminal bell with a toast naming the group:
  once per regression (a group and the resolve it undid), at most one toast per
  ``QUIET_S`` however many regress (the next toast counts those that came meanwhile),
  and only for regressions after the UI started.
- **New since you last looked.** The pane is looked at while it has the keyboard
  (``e``). Groups first seen after the previous look are marked ``✦ new``; the time
  of each look is kept in the database (``view_marks``), so the marks survive a
  restart and belong to the file, not the terminal. Leaving the pane clears the marks.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events, work

from sidelog.pipeline.batcher import JobAbandoned
from sidelog.store.group_marks import LookedJob, looked_at, regressed_since
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui.widgets.errors_snooze import SnoozeTriage

if TYPE_CHECKING:
    from textual.timer import Timer

QUIET_S = 5.0
"""Shortest gap between two regression toasts (and bells)."""
SLACK_MS = 60_000
"""How far before the previous look each look for regressions reaches back: a group's
``last_seen`` is its events' arrival, which may precede their commit by a batch or a
backed-up queue."""
REMEMBERED = 10_000
"""Regressions remembered as announced (the oldest are forgotten first)."""


class RegressionBell:
    """Which regressions to announce, each once, no more often than every ``quiet`` seconds."""

    def __init__(
        self, since: int, *, quiet: float = QUIET_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.since = since
        """Look for groups active from this time (ms) on."""
        self._quiet = quiet
        self._monotonic = monotonic
        self._announced: OrderedDict[tuple[str, int | None], None] = OrderedDict()
        self._pending: list[ErrorGroup] = []
        self._pending_count = 0
        self._last = -quiet

    def observe(self, groups: list[ErrorGroup], now: int) -> None:
        """Take the regressed groups the store listed at ``now``; keep those not yet announced."""
        for group in groups:
            key = (group.fingerprint, group.resolved_at)
            if key in self._announced:
                continue
            self._announced[key] = None
            if len(self._announced) > REMEMBERED:
                self._announced.popitem(last=False)
            self._pending_count += 1
            if len(self._pending) < 3:
                self._pending.append(group)
        self.since = max(self.since, now - SLACK_MS)

    def wait(self) -> float | None:
        """Seconds before the pending regressions may be announced (``None``: none pending)."""
        if not self._pending_count:
            return None
        return max(0.0, self._last + self._quiet - self._monotonic())

    def take(self) -> str | None:
        """The toast for the pending regressions, if one may be shown now."""
        if self.wait() != 0.0:
            return None
        first, count = self._pending[0], self._pending_count
        self._pending, self._pending_count = [], 0
        self._last = self._monotonic()
        name = safe_text(clip(f"{first.category}: {first.message}", 100))
        if count == 1:
            return f"Regressed: {name}"
        return f"Regressed: {name}, and {count - 1} more group{'s' if count > 2 else ''}"


class WatchTriage(SnoozeTriage):
    """The errors pane's regression bell and its "new since you last looked" marks."""

    _bell: RegressionBell | None = None
    _bell_timer: Timer | None = None
    rerender: Callable[[], None]

    async def start_watching(self) -> None:
        """Read when the pane was last looked at; announce only regressions from now on."""
        if self._engine is None or self._pages is None:
            return
        self._bell = RegressionBell(self._clock())
        self._pages.looked_at = await looked_at(self._engine.reader)

    async def check_regressions(self) -> None:
        """Ask the store for new regressions and announce them (called on each reload)."""
        bell, engine = self._bell, self._engine
        if bell is None or engine is None:
            return
        now = self._clock()
        bell.observe(await regressed_since(engine.reader, bell.since), now)
        self.ring()

    def ring(self) -> None:
        """Bell and toast for what is pending, now or once the quiet time has passed."""
        bell = self._bell
        wait = bell.wait() if bell is not None else None
        if bell is None or wait is None:
            return
        if wait > 0:
            if self._bell_timer is None:
                self._bell_timer = self.set_timer(wait + 0.01, self._ring_later)
            return
        message = bell.take()
        if message is not None:
            self.app.bell()
            self.notify(message, title="Error group regressed", severity="warning", markup=False)

    def _ring_later(self) -> None:
        self._bell_timer = None
        self.ring()

    def on_focus(self, event: events.Focus) -> None:
        """The pane is looked at: record it (the marks stay while the pane has the keyboard)."""
        self._record_look(self._clock())

    def on_blur(self, event: events.Blur) -> None:
        """Left the pane: what it listed has been seen, so the marks go."""
        now = self._clock()
        if self._pages is not None and self._pages.looked_at is not None:
            self._pages.looked_at = max(self._pages.looked_at, now)
        elif self._pages is not None:
            self._pages.looked_at = now
        self.rerender()
        self._record_look(now)

    @work(name="errors-looked", group="errors-looked", exit_on_error=False)
    async def _record_look(self, at: int) -> None:
        engine = self._engine
        if engine is None:
            return
        try:
            await engine.run_job(lambda writer: LookedJob(writer, at), recount=False)
        except JobAbandoned:  # sidelog is stopping: the look is not worth a complaint
            return
