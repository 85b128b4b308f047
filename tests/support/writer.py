"""Putting the writer in a known state for tests that need events to stay queued."""

from __future__ import annotations

from sidelog.engine import Engine
from sidelog.events import Event
from tests.support.wait import until

WARM_UP_MESSAGE = "warm-up"


async def spend_eager_write(engine: Engine) -> None:
    """Have the idle writer make its one immediate write of this batch interval, and wait for it.

    An event that finds the writer idle is written at once, but only once per batch
    interval (pipeline/batcher.py); so with a long ``batch_interval_ms``, events sent
    after this stay queued until their batch fills or the interval passes, which is what
    tests of a full queue or of a drain rely on. Stores one event (message
    ``WARM_UP_MESSAGE``, category ``test``, source ``server``).
    """
    stored = engine.counters.stored
    engine.admit([Event(message=WARM_UP_MESSAGE, category="test")], None)
    await until(lambda: engine.counters.stored > stored, message="the warm-up event committed")
