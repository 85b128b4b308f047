"""Live batches held while the main screen is covered, applied in one go when it returns.

Bounded: past ``HOLD_EVENTS`` events the held batches are dropped and the stream reloads
its newest page from the store instead (the store has every event), so a flood behind
the palette costs no memory beyond that bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the UI's first frame loads no store module (tui/startup.py)
    from sidelog.pipeline.batcher import CommittedBatch

HOLD_EVENTS = 20_000
"""More than a screenful many times over; beyond it a reload is cheaper than replaying."""


@dataclass
class HeldBatches:
    """What arrived while the main screen was covered."""

    batches: list[CommittedBatch] = field(default_factory=list)
    events: int = 0
    reload: bool = False
    """Too much arrived (or batches were lost on the way): reload from the store instead."""
    errors: bool = False
    """Some of it were errors: the errors pane should reload."""

    def hold(self, batch: CommittedBatch) -> None:
        """Keep ``batch`` for later, or switch to a reload once the bound is passed."""
        self.errors = self.errors or batch.has_error_news
        if self.reload:
            return
        self.events += len(batch.stored)
        if self.events > HOLD_EVENTS:
            self.batches.clear()
            self.reload = True
        else:
            self.batches.append(batch)

    def take(self) -> HeldBatches:
        """Everything held so far; this holder starts empty again."""
        taken = HeldBatches(self.batches, self.events, self.reload, self.errors)
        self.batches, self.events, self.reload, self.errors = [], 0, False, False
        return taken
