"""The UI's one throttle: batches merged and handed on at most once per frame, slower in a flood."""

from __future__ import annotations

import asyncio

from sidelog.events import Event
from sidelog.pipeline.batcher import CommittedBatch
from sidelog.tui.live import LiveFeed


class FakeSubscription:
    """Committed batches queued by the test, read like the engine's subscription."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[CommittedBatch] = asyncio.Queue()

    def put(self, *messages: str) -> None:
        self.queue.put_nowait(CommittedBatch(stored=[Event(message=m) for m in messages]))

    async def get(self) -> CommittedBatch:
        return await self.queue.get()

    def get_nowait(self) -> CommittedBatch | None:
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None


def messages(batch: CommittedBatch) -> list[str]:
    return [event.message for event in batch.stored]


async def test_a_quiet_feed_hands_on_each_batch_at_once_and_a_burst_as_one() -> None:
    subscription = FakeSubscription()
    feed = LiveFeed(subscription, frame=0.2, flood_frame=1.0, flood_events=100)
    loop = asyncio.get_running_loop()
    subscription.put("a")
    started = loop.time()
    assert messages(await anext(feed)) == ["a"]
    assert loop.time() - started < 0.1  # nothing shown recently: no wait

    subscription.put("b")
    subscription.put("c", "d")
    assert messages(await anext(feed)) == ["b", "c", "d"]  # one update for the burst
    assert loop.time() - started >= 0.15  # ...and not before the next frame


async def test_a_flood_slows_the_frames() -> None:
    subscription = FakeSubscription()
    feed = LiveFeed(subscription, frame=0.01, flood_frame=0.3, flood_events=10)
    loop = asyncio.get_running_loop()
    subscription.put(*(f"m{n}" for n in range(11)))  # more than flood_events
    await anext(feed)
    flooded = loop.time()
    subscription.put("after")
    assert messages(await anext(feed)) == ["after"]
    assert loop.time() - flooded >= 0.25  # the flood frame, not the quiet one
    subscription.put("quiet")
    quiet = loop.time()
    await anext(feed)
    assert loop.time() - quiet < 0.25  # a small frame brings the quiet pace back
