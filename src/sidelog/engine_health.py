"""The engine's health snapshot, kept answerable while the store cannot be read.

``GET /v1/health`` and the status bar are how anyone learns that a shared PostgreSQL
store went away, so building the snapshot must not fail for the very reason it should
report: a read the store refuses (``StoreError``, e.g. the database is unreachable)
leaves the resolution figures out and the snapshot is still served, with the writer's
last error (``lastWriteError``) saying what is wrong.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from sidelog.health import Forwarding, Health, writer_state
from sidelog.store.database import file_size, wal_path
from sidelog.store.errors import StoreError
from sidelog.store.resolution import Resolution, resolution_for_health

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.pipeline.batcher import Batcher
    from sidelog.pipeline.counters import Counters, RateMeter
    from sidelog.pipeline.queue import IngestQueue
    from sidelog.store.reader import StoreReader
    from sidelog.store.writer import StoreWriter


class HealthSource(Protocol):
    """What the snapshot reads of the engine (``sidelog.engine.Engine``)."""

    settings: Settings
    endpoints: list[tuple[str, str]]
    clients: int
    meter: RateMeter
    counters: Counters
    queue: IngestQueue
    started_at: float
    forwarders: list[Forwarding]

    @property
    def reader(self) -> StoreReader: ...

    @property
    def stored_total(self) -> int: ...


async def engine_health(engine: HealthSource, writer: StoreWriter, batcher: Batcher) -> Health:
    """The figures of the status bar and ``GET /v1/health`` for ``engine``."""
    reader = engine.reader
    settings = engine.settings
    resolution: Resolution | None
    failing, error = batcher.health.failing, batcher.health.last_error
    try:
        unresolved = await reader.unresolved_count()
        resolution = await resolution_for_health(reader)
    except StoreError as exc:  # unreadable: say so, and serve the rest
        unresolved, resolution = 0, None
        if not failing:
            failing, error = True, str(exc).splitlines()[0][:300]
    return Health(
        endpoints=[f"{kind} {address}" for kind, address in engine.endpoints],
        clients=engine.clients,
        rate=engine.meter.rate(),
        rate_series=engine.meter.series()[-30:],
        stored_total=engine.stored_total,
        unresolved=unresolved,
        counters=engine.counters.as_dict(),
        drops=engine.counters.drops(),
        capture_rate=engine.counters.capture_rate(),
        db_bytes=file_size(settings.db) + file_size(wal_path(settings.db)),
        db_budget_bytes=settings.db_budget_mb * 1024 * 1024,
        queue_depth=len(engine.queue),
        queue_capacity=engine.queue.capacity,
        write_failing=failing,
        last_write_error=error,
        uptime_s=time.time() - engine.started_at,
        last_id=writer.last_id,
        forwarding=[forwarder.status(writer.last_id) for forwarder in engine.forwarders],
        resolution=resolution,
        **writer_state(writer.wal, batcher.health.batches),
    )
