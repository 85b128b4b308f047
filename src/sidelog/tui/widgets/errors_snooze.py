"""The errors pane's ``z``: snooze the highlighted group for a time or until N more events.

``z`` asks how long (``1h``, ``24h``, ``7d``, an ISO date-time, or ``+100`` for a
hundred more events; store/group_snooze.py reads it and names what is wrong with
anything else). The group leaves the unresolved list until then and comes back by
itself: when the time comes (the pane reloads at the earliest end of a snooze) or
when new errors bring its count up. ``z`` on a snoozed group (listed with ``t``)
wakes it at once. The snooze is written in one writer turn, between ingest batches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.content import Content
from textual.timer import Timer

from sidelog.pipeline.batcher import JobAbandoned
from sidelog.store.group_snooze import SnoozeJob, SnoozeSpec, parse_snooze, snoozed_count
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text
from sidelog.tui.screens.prompt import PromptScreen
from sidelog.tui.widgets.errors_bulk import BulkTriage

if TYPE_CHECKING:
    from sidelog.tui.widgets.errors_pages import PageReader

DEFAULT_SNOOZE = "1h"
"""What the prompt offers first."""


class SnoozeTriage(BulkTriage):
    """``z`` on the errors pane, and the count of snoozed groups in its title."""

    _clock: Callable[[], int]
    _pages: PageReader | None

    snoozed = 0
    """Unresolved groups snoozed now (the title says how many are out of the list)."""
    _wake_timer: Timer | None = None

    @property
    def highlighted_group(self) -> ErrorGroup | None:
        """The group under the cursor (the pane defines it)."""
        raise NotImplementedError

    def snooze_allowed(self) -> bool:
        """Only an unresolved group can be snoozed (or woken)."""
        group = self.highlighted_group
        return group is not None and group.status == "unresolved"

    def action_snooze(self) -> None:
        """Ask how long, then snooze the highlighted group; a snoozed one is woken instead."""
        group = self.highlighted_group
        if group is None or group.status != "unresolved" or self._pages is None:
            return
        if self._pages.extras(group).snoozed:
            self._snooze(group, None, self._clock())
            return

        def snooze_for(text: str | None) -> None:
            if text is None:
                return
            now = self._clock()
            try:
                spec = parse_snooze(text, now=now)
            except ValueError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self._snooze(group, spec, now)

        self.app.push_screen(
            PromptScreen(
                "Snooze error group",
                Content.assemble("Hide until then: ", safe_text(clip(group.message, 200))),
                value=DEFAULT_SNOOZE,
                placeholder="1h, 24h, 7d, or +100 for 100 more events",
            ),
            snooze_for,
        )

    @work(name="errors-snooze", group="errors-snooze", exit_on_error=False)
    async def _snooze(self, group: ErrorGroup, spec: SnoozeSpec | None, at: int) -> None:
        engine = self._engine
        if engine is None:
            return
        try:
            job = await engine.run_job(
                lambda writer: SnoozeJob(writer, group.fingerprint, spec, at=at), recount=False
            )
        except JobAbandoned:  # sidelog is stopping
            return
        name = safe_text(clip(f"{group.category}: {group.message}", 80))
        if not job.found:
            self.notify("That error group no longer exists.", severity="warning")
        elif job.snooze is None:
            self.notify(f"Woke {name}", markup=False)
        else:
            self.notify(f"Snoozed ({job.snooze.describe(at)}): {name}", markup=False)
        self.reload()

    async def count_snoozed(self) -> None:
        """Count the snoozed groups, and reload when the first time snooze ends."""
        engine = self._engine
        if engine is None:
            return
        now = self._clock()
        self.snoozed, ends = await snoozed_count(engine.reader, now)
        if self._wake_timer is not None:
            self._wake_timer.stop()
            self._wake_timer = None
        if ends is not None:
            self._wake_timer = self.set_timer(max(0.05, (ends - now) / 1000 + 0.05), self.reload)
