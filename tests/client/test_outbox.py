"""The client's delivery bookkeeping as plain data: no sockets, no threads."""

from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Any

from sidelog_client.outbox import FlushTicket, Outbox

Ingress = deque[tuple[Any, ...]]


class App:
    """Stands in for EventLogger's hot path: same tuples, same sequence numbers."""

    def __init__(self, maxlen: int = 1000) -> None:
        self.ingress: Ingress = deque(maxlen=maxlen)
        self._seq = itertools.count()

    def event(self, message: str, level: str = "info") -> None:
        fields = (message, "general", level, None, None, None, None, None, None, None, None, None)
        self.ingress.append((next(self._seq), time.time(), *fields))

    def flush(self) -> FlushTicket:
        ticket = FlushTicket()
        self.ingress.append((next(self._seq), None, ticket))
        return ticket


def messages(items: Any) -> list[str]:
    return [item[2] for item in items]


def test_events_wait_for_an_acknowledgement_before_being_forgotten() -> None:
    app, outbox = App(), Outbox(buffer_size=100, min_level="debug")
    for i in range(5):
        app.event(f"e{i}")
    ticket = app.flush()
    assert outbox.take(app.ingress, connect_failures=0) is True
    assert outbox.next_batch(3) == (0, list(outbox.unacked))
    assert messages(outbox.unacked) == ["e0", "e1", "e2"]
    start, batch = outbox.next_batch(3)
    assert (start, messages(batch)) == (3, ["e3", "e4"])
    outbox.acknowledge(ok=True)
    outbox.settle(connect_failures=0)
    assert messages(outbox.unacked) == ["e3", "e4"]
    assert not ticket.done.is_set()
    outbox.acknowledge(ok=True)
    outbox.settle(connect_failures=0)
    assert ticket.done.is_set()
    assert ticket.ok is True
    assert len(outbox) == 0
    assert outbox.acknowledged == 5


def test_requeue_resends_unacknowledged_events_first_and_in_order() -> None:
    app, outbox = App(), Outbox(buffer_size=100, min_level="debug")
    for i in range(6):
        app.event(f"e{i}")
    outbox.take(app.ingress, 0)
    outbox.next_batch(2)
    outbox.next_batch(2)
    outbox.acknowledge(ok=True)  # e0, e1 committed; e2, e3 in flight; e4, e5 unsent
    outbox.requeue()
    assert messages(outbox.unsent) == ["e2", "e3", "e4", "e5"]
    assert not outbox.unacked
    outbox.acknowledge(ok=True)  # a stale reply after requeue acknowledges nothing
    assert outbox.acknowledged == 2


def test_overflow_drops_the_oldest_and_fails_a_flush_that_covered_it() -> None:
    app, outbox = App(), Outbox(buffer_size=3, min_level="debug")
    app.event("e0")
    ticket = app.flush()
    outbox.take(app.ingress, 0)
    for i in range(1, 5):
        app.event(f"e{i}")
    outbox.take(app.ingress, 0)
    assert messages(outbox.unsent) == ["e2", "e3", "e4"]
    assert outbox.dropped == 2
    outbox.settle(0)
    assert ticket.done.is_set()
    assert ticket.ok is False


def test_ingress_overflow_is_counted_from_sequence_gaps_once_confirmed() -> None:
    app, outbox = App(maxlen=10), Outbox(buffer_size=100, min_level="debug")
    for i in range(25):
        app.event(f"e{i}")  # e0..e14 fall out of the deque
    outbox.take(app.ingress, 0)
    assert messages(outbox.unsent)[0] == "e15"
    assert outbox.dropped == 0  # a gap could be a thread mid-append: wait for a second look
    outbox.take(app.ingress, 0)
    assert outbox.dropped == 15
    outbox.take(app.ingress, 0)
    assert outbox.dropped == 15


def test_drop_report_is_queued_once_per_batch_of_drops() -> None:
    app, outbox = App(), Outbox(buffer_size=2, min_level="debug")
    for i in range(5):
        app.event(f"e{i}")
    outbox.take(app.ingress, 0)
    outbox.queue_drop_report(throttle=False)
    outbox.queue_drop_report(throttle=False)
    reports = [item for item in outbox.unsent if item[3] == "system"]
    assert len(reports) == 1
    assert reports[0][2].startswith("sidelog client dropped 3 events")
    assert (reports[0][4], reports[0][5]["dropped"]) == ("warn", 3)


def test_minimum_level_and_fail_fast_flush() -> None:
    app, outbox = App(), Outbox(buffer_size=10, min_level="warn")
    app.event("quiet", level="debug")
    app.event("loud", level="Error")
    ticket = FlushTicket(fail_fast=True)
    app.ingress.append((99, None, ticket))
    outbox.take(app.ingress, connect_failures=4)
    assert messages(outbox.unsent) == ["loud"]
    outbox.settle(connect_failures=4)
    assert not ticket.done.is_set()
    outbox.settle(connect_failures=5)  # one failed attempt after the flush: give up
    assert ticket.done.is_set()
    assert ticket.ok is False
