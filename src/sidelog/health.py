"""The health figures shown in the status bar and served by ``GET /v1/health``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sidelog.store.resolution import Resolution, resolution_for_health

if TYPE_CHECKING:
    from sidelog.store.reader import StoreReader
    from sidelog.store.wal import WalKeeper

MIB = 1024 * 1024


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
    wal_bytes: int = 0
    """The write-ahead log's size on disk."""
    wal_pinned: bool = False
    """The last checkpoint could not reset the WAL: a reader holds a snapshot (a ``sqlite3`` shell)."""
    wal_skipped: str | None = None
    """Why checkpoints are not being started (no room on the disk), while that lasts."""
    batches: int = 0
    """Write transactions committed since start (``sidelog bench`` derives its transaction size)."""
    resolution: Resolution | None = None
    """Error resolution rate and median time to resolve over the last 24 hours (store/resolution.py)."""
    forwarding: list[dict[str, Any]] = field(default_factory=list)
    """Each ``--forward`` destination's lag, failures and last error (sidelog/forward/forwarder.py)."""

    @property
    def refused(self) -> dict[str, int]:
        """HTTP refusals by status (``{"403": 2, "413": 1}``)."""
        refused = self.counters.get("refused")
        return refused if isinstance(refused, dict) else {}

    def wal_note(self) -> str | None:
        """A few words for the status bar when the WAL cannot be kept short, else ``None``."""
        if self.wal_skipped is not None:
            return f"WAL {self.wal_bytes // MIB} MiB: checkpoint skipped, disk nearly full"
        if self.wal_pinned:
            return f"WAL {self.wal_bytes // MIB} MiB: pinned by a long reader"
        return None

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
            "batches": self.batches,
            "refused": self.refused,
            "wal": {
                "bytes": self.wal_bytes,
                "pinned": self.wal_pinned,
                "skipped": self.wal_skipped,
                "note": self.wal_note(),
            },
            "resolution": None if self.resolution is None else self.resolution.to_wire(),
            "forwarding": self.forwarding,
        }


class Forwarding(Protocol):
    """A ``--forward`` destination as the engine sees it (sidelog/forward/forwarder.py)."""

    def status(self, last_id: int) -> dict[str, Any]:
        """Its health, given the store's newest id (for the lag)."""
        ...

    async def close(self) -> None:
        """Stop, letting a request under way finish (the engine's first shutdown step)."""
        ...


def wal_state(keeper: WalKeeper) -> dict[str, Any]:
    """The WAL fields of ``Health`` from the writer's checkpoint keeper (``store/wal.py``)."""
    return {"wal_bytes": keeper.wal_bytes(), "wal_pinned": keeper.pinned, "wal_skipped": keeper.skipped}


def writer_state(keeper: WalKeeper, batches: int) -> dict[str, Any]:
    """The writer's fields of ``Health``: the WAL's (``wal_state``) and ``batches``, the write
    transactions committed so far."""
    return {**wal_state(keeper), "batches": batches}


async def store_state(keeper: WalKeeper, batches: int, reader: StoreReader) -> dict[str, Any]:
    """``writer_state`` plus ``resolution``, read through ``reader`` (kept between health ticks)."""
    return {**writer_state(keeper, batches), "resolution": await resolution_for_health(reader)}
