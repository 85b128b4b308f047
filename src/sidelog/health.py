"""The health figures shown in the status bar and served by ``GET /v1/health``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Health:
    """A snapshot of sidelog's health (``GET /v1/health`` and the status bar)."""

    endpoints: list[str]
    clients: int
    rate: float
    """Events stored per second, averaged over the last five seconds."""
    rate_series: list[int]
    """Events stored in each of the last 30 seconds, oldest first (for a sparkline)."""
    stored_total: int
    unresolved: int
    """Unresolved error groups."""
    counters: dict[str, Any]
    """Every counter by name; ``dialects`` and ``not_stored`` are nested ``{name: count}`` objects."""
    drops: dict[str, int]
    capture_rate: float
    db_bytes: int
    db_budget_bytes: int
    queue_depth: int
    queue_capacity: int
    write_failing: bool
    last_write_error: str | None
    uptime_s: float
    last_id: int

    def to_wire(self) -> dict[str, Any]:
        """The snapshot as JSON-ready camelCase keys."""
        return {
            "status": "failing" if self.write_failing else "ok",
            "endpoints": self.endpoints,
            "clients": self.clients,
            "rate": round(self.rate, 1),
            "rateSeries": self.rate_series,
            "storedTotal": self.stored_total,
            "unresolvedErrors": self.unresolved,
            "counters": self.counters,
            "drops": self.drops,
            "captureRate": round(self.capture_rate, 4),
            "dbBytes": self.db_bytes,
            "dbBudgetBytes": self.db_budget_bytes,
            "queueDepth": self.queue_depth,
            "queueCapacity": self.queue_capacity,
            "writeFailing": self.write_failing,
            "lastWriteError": self.last_write_error,
            "uptimeSeconds": round(self.uptime_s, 1),
            "lastId": self.last_id,
        }
