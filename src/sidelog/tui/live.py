"""Coalescing committed batches so a flood of events becomes a few UI updates a second."""

from __future__ import annotations

from sidelog.engine import Subscription
from sidelog.pipeline.batcher import CommittedBatch


class LiveBuffer:
    """Batches received but not yet shown; ``take`` merges them with any still queued."""

    def __init__(self) -> None:
        self._pending: list[CommittedBatch] = []

    def add(self, batch: CommittedBatch) -> None:
        """Hold a batch until the next update."""
        self._pending.append(batch)

    def take(self, subscription: Subscription | None = None) -> CommittedBatch | None:
        """Everything held plus everything waiting in ``subscription``, as one batch (ids ascending)."""
        batches, self._pending = self._pending, []
        if subscription is not None:
            while (more := subscription.get_nowait()) is not None:
                batches.append(more)
        if not batches:
            return None
        if len(batches) == 1:
            return batches[0]
        stored = [event for batch in batches for event in batch.stored]
        live_only = [event for batch in batches for event in batch.live_only]
        return CommittedBatch(stored=stored, live_only=live_only)
