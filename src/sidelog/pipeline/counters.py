"""Drop accounting and rates: every event that is not stored is counted somewhere.

The kinds are the README's (end of "Settings"): ``rejected`` (bad input),
``rate_limited``, ``filtered`` (toggles and ``LOG_LEVEL``) and ``overflow`` (refused for
lack of room), plus ``write_failed`` for batches the database would not take.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

from sidelog.pipeline.refusals import RefusalLog


@dataclass
class Counters:
    """Process-lifetime counts, read by ``/v1/health`` and the status bar."""

    received: int = 0
    """Valid events that arrived (before filters and rate limits)."""
    stored: int = 0
    """Events committed to the database."""
    duplicates: int = 0
    """Events whose idempotency key was already stored (accepted, not stored twice)."""
    live_only: int = 0
    """Events below the store level: shown live, not written."""
    rejected: int = 0
    """Lines or events refused as bad input."""
    rate_limited: int = 0
    """Events over their (source, category) burst."""
    filtered: int = 0
    """Events turned away by the ``ENABLE_*`` toggles or ``LOG_LEVEL``."""
    overflow: int = 0
    """Events refused because the queue was full (HTTP 429)."""
    write_failed: int = 0
    """Events lost because the database refused their batch after retries."""
    http_refused: int = 0
    """Socket connections closed because they spoke HTTP."""
    auth_failed: int = 0
    """Socket connections closed for a missing or wrong token."""
    replies_dropped: int = 0
    """Error replies not sent because the client was not reading them."""
    refused_connections: int = 0
    """Connections closed on arrival because ``max_connections`` were already open."""
    accept_failed: int = 0
    """Times accepting a connection failed for lack of descriptors (accepting then pauses)."""
    not_stored: dict[str, int] = field(default_factory=dict)
    """Items received on purpose but not stored, by kind (``sentry.session``, ``otlp.span``…;
    see ``sidelog.ingest.receiver.ReceiverCounts``, which bounds the kinds)."""
    dialects: dict[str, int] = field(default_factory=dict)
    """Events read in a log dialect (``sidelog.dialects.DIALECTS``: pino, structlog, text…),
    by name; native events are not counted here. Only known names, so it stays small."""
    refusals: RefusalLog = field(default_factory=RefusalLog)
    """The last refused inputs (for the UI's rejected view) and HTTP refusals by status."""

    def drops(self) -> dict[str, int]:
        """Dropped events by kind."""
        return {
            "rejected": self.rejected,
            "rate_limited": self.rate_limited,
            "filtered": self.filtered,
            "overflow": self.overflow,
            "write_failed": self.write_failed,
        }

    def capture_rate(self) -> float:
        """Share of events meant for storage that were stored (1.0 when none were due).

        Filtered and live-only events are not counted against it: they were not meant
        to be stored. Rate-limited, overflowing and failed writes are, and so is refused
        input (rejected lines, and HTTP requests refused whole: a 403 origin, a 413, a
        415…), so the rate never reads 100 % while inputs are being refused.
        """
        kept = self.stored + self.duplicates
        lost = self.rate_limited + self.overflow + self.write_failed + self.rejected + self.refusals.uncounted
        return 1.0 if kept + lost == 0 else kept / (kept + lost)

    def as_dict(self) -> dict[str, Any]:
        """All counters by name (``dialects``, ``not_stored`` and ``refused``, HTTP refusals by
        status, as nested ``{name: count}`` objects)."""
        values: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict):
                values[item.name] = dict(value)
            elif isinstance(value, int):
                values[item.name] = value
        values["refused"] = dict(self.refusals.by_status)
        return values


@dataclass
class RateMeter:
    """Events per second over the last ``seconds`` whole seconds (for the sparkline)."""

    seconds: int = 60
    _buckets: deque[tuple[int, int]] = field(default_factory=deque)

    def add(self, count: int, now: float | None = None) -> None:
        """Record ``count`` events at ``now`` (monotonic seconds)."""
        second = int(time.monotonic() if now is None else now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + count)
        else:
            self._buckets.append((second, count))
            while self._buckets and self._buckets[0][0] <= second - self.seconds:
                self._buckets.popleft()

    def series(self, now: float | None = None) -> list[int]:
        """Per-second counts, oldest first, ending with the last complete second."""
        current = int(time.monotonic() if now is None else now)
        by_second = dict(self._buckets)
        return [by_second.get(second, 0) for second in range(current - self.seconds, current)]

    def rate(self, window: int = 5, now: float | None = None) -> float:
        """Mean events per second over the last ``window`` complete seconds."""
        series = self.series(now)[-window:]
        return sum(series) / max(len(series), 1)
