"""The client's delivery bookkeeping, without sockets: what is unsent, unacknowledged, lost.

Every queued event has a position ``n`` (increasing) from when it leaves the app's
``ingress`` deque; positions are implicit (``front`` plus the index), so keeping an
event costs no allocation beyond the app's own tuple. Events move from ``unsent`` to
``unacked`` when written, and are forgotten only when a sync acknowledgement covering
their position arrives. On a broken connection ``requeue`` puts every unacknowledged
event back in front of the unsent ones, in order, so they are sent again (sidelog
drops the second copy by its wire ``id``). The two deques together never hold more
than ``buffer_size`` events: past that the oldest is dropped and counted. Used only
by the sender thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from sidelog_client.config import LEVEL_ALIASES, LEVEL_RANK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Layout of a queued item (a tuple, for speed; built by EventLogger):
# (seq, time_s, message, category, level, details, user_id, session_id, url,
#  show_to_user, user_message, source, extra, exception)
# A flush marker is (seq, None, FlushTicket). An integration's deferred item is
# (seq, time_s, render, category, level, *raw values): encode.rendered makes it ordinary.
SEQ, TIME, LEVEL = 0, 1, 4
_DRAIN_CHUNK = 20_000
_REPORT_EVERY_S = 1.0

Item = tuple["Any", ...]


class FlushTicket:
    """A ``flush()`` in progress: done once everything queued before it is settled."""

    def __init__(self, fail_fast: bool = False) -> None:
        self.fail_fast = fail_fast
        """At exit: give up after one failed connection attempt instead of retrying."""
        self.done = threading.Event()
        self.ok = False
        self.boundary = -1
        self.failed_acks_at_start = 0
        self.connect_failures_at_start = 0
        self.lost = False
        """Set when an event queued before the flush was pushed out of the full buffer."""


class Outbox:
    """Unsent and unacknowledged events, flush tickets and drop accounting."""

    def __init__(self, buffer_size: int, min_level: str) -> None:
        self.buffer_size = buffer_size
        self.unsent: deque[Item] = deque()
        self.unacked: deque[Item] = deque()
        self.front = 0
        """Position of the oldest event kept (``unacked[0]``, else ``unsent[0]``)."""
        self.tickets: list[FlushTicket] = []
        self.dropped = 0
        """Events dropped so far (buffer overflow, in ingress or here)."""
        self.acknowledged = 0
        self._min_rank = LEVEL_RANK[min_level]
        self._syncs: deque[int] = deque()
        self._failed_acks = 0
        self._consumed = 0
        self._max_seq = -1
        self._ingress_dropped = 0
        self._last_gap = 0
        self._reported = 0
        self._last_report = 0.0

    def __len__(self) -> int:
        return len(self.unsent) + len(self.unacked)

    @property
    def next_position(self) -> int:
        """The position the next event taken in will get."""
        return self.front + len(self.unacked) + len(self.unsent)

    def take(self, ingress: deque[tuple[Any, ...]], connect_failures: int) -> bool:
        """Move what the app queued into the outbox; return whether a flush was requested."""
        unsent, unacked = self.unsent, self.unacked
        limit, min_rank = self.buffer_size, self._min_rank
        flushed = False
        for _ in range(_DRAIN_CHUNK):
            try:
                item = ingress.popleft()
            except IndexError:
                break
            self._consumed += 1
            if item[SEQ] > self._max_seq:
                self._max_seq = item[SEQ]
            if item[TIME] is None:
                ticket: FlushTicket = item[2]
                ticket.boundary = self.next_position
                ticket.failed_acks_at_start = self._failed_acks
                ticket.connect_failures_at_start = connect_failures
                self.tickets.append(ticket)
                flushed = True
                continue
            if min_rank:
                level = item[LEVEL]
                name = LEVEL_ALIASES.get(level.lower()) if isinstance(level, str) else None
                if name is not None and LEVEL_RANK[name] < min_rank:
                    continue
            unsent.append(item)
            if len(unsent) + len(unacked) > limit:
                (unacked or unsent).popleft()
                lost = self.front
                self.front += 1
                self.dropped += 1
                for waiting in self.tickets:
                    if lost < waiting.boundary:
                        waiting.lost = True
        # Sequence numbers missing from what was consumed fell out of the full ingress
        # deque. A number can also be missing for an instant (drawn by a thread that
        # has not appended yet), so only a gap seen on two consecutive passes counts.
        gap = self._max_seq + 1 - self._consumed
        confirmed = min(gap, self._last_gap)
        self._last_gap = gap
        if confirmed > self._ingress_dropped:
            self.dropped += confirmed - self._ingress_dropped
            self._ingress_dropped = confirmed
        return flushed

    def due(self, batch_size: int, interval_s: float, force: bool) -> bool:
        """Whether unsent events should go out now (size, age of the oldest, or forced)."""
        unsent = self.unsent
        if not unsent:
            return False
        return (
            force
            or bool(self.tickets)
            or len(unsent) >= batch_size
            or time.time() - unsent[0][TIME] >= interval_s
        )

    def next_batch(self, batch_size: int) -> tuple[int, list[Item]]:
        """Take up to ``batch_size`` unsent events and the position of the first.

        The caller writes them, then one sync line whose reply ``acknowledge`` expects.
        """
        unsent, unacked = self.unsent, self.unacked
        start = self.front + len(unacked)
        batch = [unsent.popleft() for _ in range(min(batch_size, len(unsent)))]
        unacked.extend(batch)
        if batch:
            self._syncs.append(start + len(batch))
        return start, batch

    def acknowledge(self, ok: bool) -> None:
        """A sync reply arrived: forget everything the oldest outstanding sync covered."""
        if not self._syncs:
            return
        boundary = self._syncs.popleft()
        unacked = self.unacked
        while unacked and self.front < boundary:
            unacked.popleft()
            self.front += 1
            self.acknowledged += 1
        if not ok:
            self._failed_acks += 1

    def requeue(self) -> None:
        """The connection broke: everything unacknowledged goes out again, in its original order."""
        self._syncs.clear()
        self.unacked.extend(self.unsent)
        self.unsent, self.unacked = self.unacked, deque()

    def settle(self, connect_failures: int) -> None:
        """Complete the flush tickets whose events are all acknowledged (or dropped)."""
        if not self.tickets:
            return
        settled = self.front
        remaining = []
        for ticket in self.tickets:
            if settled >= ticket.boundary:
                ticket.ok = not ticket.lost and self._failed_acks == ticket.failed_acks_at_start
                ticket.done.set()
            elif ticket.fail_fast and connect_failures > ticket.connect_failures_at_start:
                ticket.done.set()  # at exit, one failed attempt is enough
            else:
                remaining.append(ticket)
        self.tickets = remaining

    def release_tickets(self) -> None:
        """The sender is stopping: wake every waiting ``flush`` (unsuccessfully)."""
        for ticket in self.tickets:
            ticket.done.set()
        self.tickets = []

    def queue_drop_report(self, *, throttle: bool) -> None:
        """Append a ``system`` warning counting unreported drops (throttled: at most once a second)."""
        count = self.dropped - self._reported
        if count <= 0 or (throttle and time.monotonic() - self._last_report < _REPORT_EVERY_S):
            return
        self._reported = self.dropped
        self._last_report = time.monotonic()
        details = {"dropped": count, "dropped_total": self.dropped, "buffer_size": self.buffer_size}
        message = (
            f"sidelog client dropped {count} events while sidelog was unreachable or slow"
            f" (buffer of {self.buffer_size} full)"
        )
        fields = (message, "system", "warn", details, None, None, None, None, None, None, None, None)
        self.unsent.append((-1, time.time(), *fields))
