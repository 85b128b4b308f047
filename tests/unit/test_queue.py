"""The bounded ingest queue: FIFO order, sync markers, capacity and space callbacks."""

from __future__ import annotations

import asyncio

from sidelog.events import Event
from sidelog.pipeline.queue import IngestQueue, Origin, SyncMarker


def events(n: int, prefix: str = "e") -> list[Event]:
    return [Event(message=f"{prefix}{i}") for i in range(n)]


def test_fifo_and_origin_counts() -> None:
    queue = IngestQueue(100)
    origin = Origin("test")
    queue.put(events(3), origin)
    queue.put(events(2, "f"), None)
    assert len(queue) == 5
    assert origin.queued == 3
    batch = queue.take(4)
    assert [e.message for e in batch.events] == ["e0", "e1", "e2", "f0"]
    assert batch.origins == [origin, origin, origin, None]
    assert len(queue) == 1
    assert [e.message for e in queue.take(10).events] == ["f1"]
    assert not queue


def test_marker_travels_with_the_events_before_it() -> None:
    queue = IngestQueue(100)
    origin = Origin("test")
    seen: list[Origin] = []
    queue.put(events(2), origin)
    queue.put_marker(SyncMarker(origin, seen.append))
    queue.put(events(2, "late"), origin)
    assert queue.has_marker
    batch = queue.take(2)
    assert len(batch.events) == 2
    assert [m.origin for m in batch.markers] == [origin]  # the marker right behind is included
    assert not queue.has_marker
    rest = queue.take(10)
    assert [e.message for e in rest.events] == ["late0", "late1"]
    assert rest.markers == []


def test_marker_is_not_taken_before_earlier_events() -> None:
    queue = IngestQueue(100)
    origin = Origin("test")
    queue.put(events(5), origin)
    queue.put_marker(SyncMarker(origin, lambda _o: None))
    first = queue.take(3)
    assert first.markers == []
    second = queue.take(3)
    assert len(second.events) == 2
    assert len(second.markers) == 1


def test_capacity_full_and_space_callback_at_half() -> None:
    queue = IngestQueue(10)
    woken: list[str] = []
    queue.put(events(12), None)  # put never refuses: the producer checks ``full``
    assert queue.full
    assert len(queue) == 12
    queue.when_space(lambda: woken.append("a"))
    queue.take(4)  # 8 left: above half
    assert woken == []
    queue.take(3)  # 5 left: at half
    assert woken == ["a"]
    queue.take(10)
    assert woken == ["a"]  # called once
    assert len(queue) == 0
    assert not queue.full


async def test_wait_returns_at_batch_size_or_timeout() -> None:
    queue = IngestQueue(100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await queue.wait(5, 0.05)  # nothing arrives: times out
    assert loop.time() - started >= 0.04

    async def produce() -> None:
        for _ in range(5):
            await asyncio.sleep(0)
            queue.put(events(1), None)

    task = asyncio.create_task(produce())
    await asyncio.wait_for(queue.wait(5, 10.0), 2.0)  # woken by the fifth event, not the timeout
    await task
    assert len(queue) == 5


async def test_marker_wakes_a_waiting_writer() -> None:
    queue = IngestQueue(100)
    waiter = asyncio.create_task(queue.wait(500, 10.0))
    await asyncio.sleep(0)
    queue.put_marker(SyncMarker(Origin("x"), lambda _o: None))
    await asyncio.wait_for(waiter, 2.0)


def test_take_records_each_markers_position_in_its_batch() -> None:
    queue = IngestQueue(100)
    a, b = Origin("a"), Origin("b")
    queue.put_marker(SyncMarker(a, lambda _o: None))
    queue.put(events(2), a)
    queue.put_marker(SyncMarker(b, lambda _o: None))
    queue.put(events(1), b)
    queue.put_marker(SyncMarker(a, lambda _o: None))
    batch = queue.take(10)
    assert [(m.origin.label, m.position) for m in batch.markers] == [("a", 0), ("b", 2), ("a", 3)]
