"""The engine's periodic chores: rate-limit reports every second, retention at start and hourly.

Kept apart from the intake path so a report never delays admitting events; both
run as one background task the engine starts with the writer. Retention itself
runs as short writer turns between batches (``Batcher.run_job``), so even a pass
over a million expired events leaves ingest and syncs flowing; its outcome is
recorded as a ``system`` event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sidelog.pipeline.batcher import JobAbandoned
from sidelog.pipeline.live import OTHER, FacetCounts
from sidelog.pipeline.ratelimit import RateLimiter

if TYPE_CHECKING:
    from sidelog.store.writer import PruneResult

HOUSEKEEPING_S = 1.0
"""How often rate-limit reports are turned into events."""
RETENTION_EVERY_S = 3600.0
"""How often retention runs after the first pass (5 s after start)."""
_FIRST_RETENTION_S = 5.0

SystemEvent = Callable[[str, str, "dict[str, Any] | None"], None]
"""``Engine.system_event``: record one of sidelog's own events."""


async def housekeeping(
    limiter: RateLimiter,
    system_event: SystemEvent,
    prune: Callable[[], Awaitable[PruneResult]],
    log: logging.Logger,
    facets: FacetCounts | None = None,
) -> None:
    """Run forever: report rate-limit drops as ``system`` events; prune old events hourly.

    A failed prune is logged on ``log`` and retried at the next hour.
    """
    next_retention = time.monotonic() + _FIRST_RETENTION_S
    while True:
        await asyncio.sleep(HOUSEKEEPING_S)
        report_rate_limits(limiter, system_event)
        if facets is not None:
            report_facet_overflow(facets, system_event)
        if time.monotonic() >= next_retention:
            next_retention = time.monotonic() + RETENTION_EVERY_S
            await _retention(system_event, prune, log)


def report_facet_overflow(facets: FacetCounts, system_event: SystemEvent) -> None:
    """Once per run and facet: too many distinct names to count each (the rest are "(other)")."""
    for facet in facets.take_overflows():
        system_event(
            "warn",
            f"more than {facets.max_values} distinct {facet} names: the rest are counted as {OTHER}",
            {"facet": facet, "limit": facets.max_values},
        )


def report_rate_limits(limiter: RateLimiter, system_event: SystemEvent) -> None:
    """One ``warn`` event per (source, category) window that dropped events, so a flood shows."""
    for report in limiter.take_reports():
        system_event(
            "warn",
            f"rate limit: dropped {report.dropped} {report.source}/{report.category} events",
            {
                "source": report.source,
                "category": report.category,
                "dropped": report.dropped,
                "interval_s": report.interval_s,
                "burst": limiter.burst,
            },
        )


async def _retention(
    system_event: SystemEvent, prune: Callable[[], Awaitable[PruneResult]], log: logging.Logger
) -> None:
    started = time.monotonic()
    try:
        result = await prune()
    except JobAbandoned:  # sidelog is stopping: the next start prunes again
        return
    except Exception as exc:  # retention must never stop ingest
        log.warning("retention failed: %s", exc)
    else:
        if result.deleted or result.archived or result.released_pages:
            system_event(
                "info",
                "retention pruned old events",
                {
                    "deleted": result.deleted,
                    "archived": result.archived,
                    "seconds": round(time.monotonic() - started, 2),
                    "writer_turns": result.steps,
                    "longest_turn_ms": round(result.longest_step_s * 1000, 1),
                    "released_pages": result.released_pages,
                },
            )
