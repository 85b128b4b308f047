"""The live side of the pipeline: committed batches fanned out to subscribers, facet counts.

The writer publishes each committed batch once; the feed hands it to every
subscriber (the UI, SSE streams, ``tail``) without ever blocking the writer, and
keeps the per-level/category/source counts current so front ends need not ask
the database for them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sidelog.events import Event

if TYPE_CHECKING:  # ``OTHER`` reaches the UI's first frame, which loads no store module
    from sidelog.pipeline.batcher import CommittedBatch


class Subscription:
    """A bounded stream of committed batches for one consumer (UI, SSE, tail).

    A consumer that falls behind loses the oldest batches, counted in ``lagged``,
    rather than growing memory or slowing the writer.
    """

    def __init__(self, subscribers: set[Subscription], maxsize: int) -> None:
        self._subscribers = subscribers
        self._queue: asyncio.Queue[CommittedBatch] = asyncio.Queue(maxsize)
        self.lagged = 0
        """Batches dropped because the consumer was too slow."""

    def _offer(self, batch: CommittedBatch) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.lagged += 1
        self._queue.put_nowait(batch)

    async def get(self) -> CommittedBatch:
        """The next committed batch (waits)."""
        return await self._queue.get()

    def get_nowait(self) -> CommittedBatch | None:
        """The next committed batch, or ``None`` if none is waiting."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        """Stop receiving batches."""
        self._subscribers.discard(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> CommittedBatch:
        return await self.get()


MAX_FACET_VALUES = 1_000
"""Distinct categories (and sources) counted by name; the rest are summed under ``OTHER``."""
OTHER = "(other)"
"""The value under which events of untracked categories or sources are counted."""


@dataclass
class FacetCounts:
    """Stored events per level, category and source, kept in memory.

    Counting each committed batch costs far less than a ``GROUP BY`` per screen refresh.
    At most ``max_values`` distinct values are kept per facet, so a flood of distinct
    category names cannot grow memory (or the sidebar and palette) without bound; the
    first time a facet overflows it is reported once through ``take_overflows``.
    """

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"level": {}, "category": {}, "source": {}}
    )
    """Facet name (``level``, ``category``, ``source``) -> value -> stored events."""
    total: int = 0
    """Stored events in all (the sum of any one facet)."""
    max_values: int = MAX_FACET_VALUES
    """Distinct values named per facet; the rest count as one more entry, ``OTHER``."""
    _overflowed: set[str] = field(default_factory=set)
    _unreported: list[str] = field(default_factory=list)

    def reset(self, counts: dict[str, dict[str, int]]) -> None:
        """Start again from counts read from the store (at open, after a prune or a clear).

        ``counts`` may hold only the busiest values of a facet (the store reads at most
        ``max_values``): whatever the named values do not account for, out of the total
        the levels give, is counted under ``OTHER``.
        """
        total = sum(counts.get("level", {}).values())
        capped: dict[str, dict[str, int]] = {}
        for facet in ("level", "category", "source"):
            ranked = sorted(counts.get(facet, {}).items(), key=lambda item: item[1], reverse=True)
            kept = dict(ranked[: self.max_values])
            rest = total - sum(kept.values())
            if rest > 0:
                kept[OTHER] = kept.get(OTHER, 0) + rest
                self._note_overflow(facet)
            capped[facet] = kept
        self.counts = capped
        self.total = total

    def add(self, events: list[Event]) -> None:
        """Count newly stored events."""
        levels, categories, sources = (
            self.counts["level"],
            self.counts["category"],
            self.counts["source"],
        )
        limit = self.max_values
        for event in events:
            levels[event.level] = levels.get(event.level, 0) + 1
            category = event.category
            if category in categories:
                categories[category] += 1
            elif len(categories) < limit:
                categories[category] = 1
            else:
                categories[OTHER] = categories.get(OTHER, 0) + 1
                self._note_overflow("category")
            source = event.source
            if source in sources:
                sources[source] += 1
            elif len(sources) < limit:
                sources[source] = 1
            else:
                sources[OTHER] = sources.get(OTHER, 0) + 1
                self._note_overflow("source")
        self.total += len(events)

    def take_overflows(self) -> list[str]:
        """Facets that went over ``max_values`` since the last call (each named once per run)."""
        facets, self._unreported = self._unreported, []
        return facets

    def _note_overflow(self, facet: str) -> None:
        if facet not in self._overflowed:
            self._overflowed.add(facet)
            self._unreported.append(facet)


class LiveFeed:
    """Where the writer publishes committed batches: counts them, then offers them to subscribers."""

    def __init__(self) -> None:
        self.facets = FacetCounts()
        self._subscribers: set[Subscription] = set()

    def subscribe(self, maxsize: int = 1024) -> Subscription:
        """A new subscription to committed batches."""
        subscription = Subscription(self._subscribers, maxsize)
        self._subscribers.add(subscription)
        return subscription

    def publish(self, batch: CommittedBatch) -> None:
        """Count ``batch`` and offer it to every subscriber (never blocks)."""
        self.facets.add(batch.stored)
        for subscription in list(self._subscribers):
            subscription._offer(batch)
