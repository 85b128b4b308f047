"""The UI's one throttle: committed batches handed to the panes at most once per frame.

The engine publishes every committed batch (often a hundred a second under load). The
app follows its subscription through a ``LiveFeed``: it waits for a batch, then for the
next frame to be due, and hands on everything that arrived by then as one batch. A quiet
stream shows each event at once; a burst becomes one update; a flood slows to
``Intervals.flood_frame`` so repainting does not starve ingest. Nothing else in the UI
delays or coalesces live events.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sidelog.pipeline.batcher import CommittedBatch

FLOOD_EVENTS = 100
"""A frame that brings more events than this means a flood (about 1,500 events/s)."""


class BatchSource(Protocol):
    """Committed batches in order: the engine's ``Subscription``."""

    async def get(self) -> CommittedBatch:
        """The next batch (waits)."""
        ...

    def get_nowait(self) -> CommittedBatch | None:
        """The next batch, or ``None`` if none is waiting."""
        ...


class LiveFeed:
    """A subscription's batches, merged and paced: iterate it to get one batch per frame."""

    def __init__(
        self,
        subscription: BatchSource,
        *,
        frame: float,
        flood_frame: float,
        flood_events: int = FLOOD_EVENTS,
    ) -> None:
        """``frame`` and ``flood_frame`` are the shortest gaps between two batches, in seconds."""
        self._subscription = subscription
        self._frame = frame
        self._flood_frame = flood_frame
        self._flood_events = flood_events
        self._due = 0.0

    def __aiter__(self) -> LiveFeed:
        return self

    async def __anext__(self) -> CommittedBatch:
        """Wait for a batch, then for the next frame; everything received by then, as one batch."""
        first = await self._subscription.get()
        loop = asyncio.get_running_loop()
        wait = self._due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        batches = [first]
        while (more := self._subscription.get_nowait()) is not None:
            batches.append(more)
        batch = merge(batches)
        arrived = len(batch.stored) + len(batch.live_only)
        self._due = loop.time() + (self._flood_frame if arrived > self._flood_events else self._frame)
        return batch


def merge(batches: list[CommittedBatch]) -> CommittedBatch:
    """Several committed batches as one (ids stay ascending: batches commit in order)."""
    if len(batches) == 1:
        return batches[0]
    stored = [event for batch in batches for event in batch.stored]
    live_only = [event for batch in batches for event in batch.live_only]
    changed = any(batch.groups_changed for batch in batches)
    return CommittedBatch(stored=stored, live_only=live_only, groups_changed=changed)


__all__ = ["FLOOD_EVENTS", "BatchSource", "LiveFeed", "merge"]
