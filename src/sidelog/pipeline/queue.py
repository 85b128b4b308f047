"""The bounded in-memory queue between ingest and the writer.

Producers never block: ``put`` always succeeds (a socket chunk may overshoot the
capacity by at most one read's worth), and a producer that sees ``full`` stops
reading its socket until ``when_space`` calls it back — TCP then pushes back on the
sender. HTTP answers 429 instead. Memory is therefore bounded by the capacity plus
one read per connection, under any flood.

Sync markers ride in the same FIFO, so a marker is reached only after every event
its connection queued before it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sidelog.events import Event


@dataclass(eq=False)
class Origin:
    """Per-connection (or per-request) bookkeeping, for sync acknowledgements."""

    label: str
    """Where the events came from, e.g. ``tcp 127.0.0.1:51234``."""
    # What became of this origin's events, as in ``Counters``: a sync reply reports them.
    queued: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    filtered: int = 0
    rate_limited: int = 0
    rejected: int = 0


@dataclass(eq=False)
class SyncMarker:
    """Resolved (``callback`` called) once everything queued before it is written."""

    origin: Origin
    callback: Callable[[Origin], None]
    position: int = 0
    """How many events of its batch precede it (set by ``IngestQueue.take``)."""


@dataclass(eq=False)
class Batch:
    """What the writer takes in one go."""

    events: list[Event] = field(default_factory=list)
    origins: list[Origin | None] = field(default_factory=list)
    """The origin of each event, index for index (``None`` for sidelog's own events)."""
    markers: list[SyncMarker] = field(default_factory=list)


class IngestQueue:
    """FIFO of events and sync markers with a soft capacity (counted in events)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[tuple[Event, Origin | None] | SyncMarker] = deque()
        self._events = 0
        self._ready = asyncio.Event()
        self._batch_size = 1
        self._space_waiters: list[Callable[[], None]] = []
        self._markers = 0
        self._oldest_at = 0.0

    def __len__(self) -> int:
        return self._events

    @property
    def full(self) -> bool:
        """True when producers should stop reading."""
        return self._events >= self.capacity

    @property
    def has_marker(self) -> bool:
        """Whether a sync marker is waiting (the writer then flushes at once)."""
        return self._markers > 0

    def oldest_age(self) -> float:
        """Seconds since the oldest queued item arrived (approximate after a take)."""
        return time.monotonic() - self._oldest_at if self._items else 0.0

    def put(self, events: list[Event], origin: Origin | None) -> None:
        """Append events (never blocks; see the module docstring)."""
        if not self._items:
            self._oldest_at = time.monotonic()
        self._items.extend((event, origin) for event in events)
        self._events += len(events)
        if origin is not None:
            origin.queued += len(events)
        if self._events >= self._batch_size:
            self._ready.set()

    def put_marker(self, marker: SyncMarker) -> None:
        """Append a sync marker; it wakes the writer at once."""
        if not self._items:
            self._oldest_at = time.monotonic()
        self._markers += 1
        self._items.append(marker)
        self._ready.set()

    def when_space(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the queue has drained below half its capacity."""
        self._space_waiters.append(callback)

    def take(self, max_events: int) -> Batch:
        """Remove up to ``max_events`` events and every marker among them."""
        batch = Batch()
        items = self._items
        events = batch.events
        origins = batch.origins
        while items and len(events) < max_events:
            item = items.popleft()
            if isinstance(item, SyncMarker):
                item.position = len(events)
                batch.markers.append(item)
                self._markers -= 1
            else:
                events.append(item[0])
                origins.append(item[1])
        # Markers directly behind the last event belong to this batch too.
        while items and isinstance(items[0], SyncMarker):
            marker = items.popleft()
            assert isinstance(marker, SyncMarker)
            marker.position = len(events)
            batch.markers.append(marker)
            self._markers -= 1
        self._events -= len(events)
        if not items:
            self._ready.clear()
        else:
            # What is left arrived while the previous batch was being written.
            self._oldest_at = time.monotonic()
        if self._space_waiters and self._events <= self.capacity // 2:
            waiters, self._space_waiters = self._space_waiters, []
            for waiter in waiters:
                waiter()
        return batch

    def __bool__(self) -> bool:
        return bool(self._items)

    async def wait(self, batch_size: int, timeout: float | None) -> None:
        """Wait until ``batch_size`` events (or a marker) are queued, or ``timeout`` passes.

        With ``timeout=None`` waits for anything at all.
        """
        self._batch_size = 1 if timeout is None else batch_size
        if self._items and (timeout is None or self._events >= batch_size):
            return
        self._ready.clear()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._batch_size = 1

    def wake(self) -> None:
        """Wake a waiting writer (a command arrived or shutdown began)."""
        self._ready.set()
