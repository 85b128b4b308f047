"""Rate limits, journald-style: a burst per fixed interval, in two tiers.

The first tier is per (source, category), so one noisy category cannot drown the
others. The second is per source across all its categories, so a flood that varies
the category on every event (a bug, or a hostile client) is still held to a budget.
Excess events are dropped and counted; each interval that dropped something is
reported once (the engine turns reports into ``system`` events) so a flood shows up
as one line, not as silence. Memory is bounded: at most ``max_keys`` (source,
category) windows are tracked; categories beyond that share one ``"*other*"``
window per source until the windows roll over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

SOURCE_BURST_FACTOR = 5
"""A source may send this many category bursts per interval across all its categories."""
MAX_KEYS = 10_000
"""(source, category) windows tracked at once; the rest share an overflow window."""
OTHER = "*other*"
"""The category an untracked key is counted under once ``max_keys`` is reached."""
ALL = "*"
"""The category named in a report of the per-source tier."""


@dataclass(frozen=True, slots=True)
class RateLimitReport:
    """Events dropped from one (source, category) in one interval (category ``*``: the source tier)."""

    source: str
    category: str
    dropped: int
    interval_s: float


class _Window:
    """One fixed window: when it started, what it let through, what it dropped."""

    __slots__ = ("dropped", "passed", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.passed = 0
        self.dropped = 0


class RateLimiter:
    """Fixed-window counters; ``burst == 0`` disables limiting."""

    def __init__(
        self,
        burst: int,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        source_burst: int | None = None,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.burst = burst
        self.source_burst = burst * SOURCE_BURST_FACTOR if source_burst is None else source_burst
        """Events per interval from one source across all categories (0: no source tier)."""
        self.interval_s = interval_s
        self._clock = clock
        self._max_keys = max_keys
        self._windows: dict[tuple[str, str], _Window] = {}
        self._sources: dict[str, _Window] = {}
        self._pending: list[RateLimitReport] = []

    def allow(self, source: str, category: str) -> bool:
        """Count one event; ``False`` when its (source, category) or its source is over budget."""
        if self.burst == 0:
            return True
        now = self._clock()
        key = (source, category)
        window = self._windows.get(key)
        if window is None and len(self._windows) >= self._max_keys:
            key = (source, OTHER)
            window = self._windows.get(key)
        if window is None or now - window.started >= self.interval_s:
            if window is not None and window.dropped:
                self._report(key[0], key[1], window)
            window = self._windows[key] = _Window(now)
        if window.passed >= self.burst:
            window.dropped += 1
            return False
        if self.source_burst:
            tier = self._sources.get(source)
            if tier is None or now - tier.started >= self.interval_s:
                if tier is not None and tier.dropped:
                    self._report(source, ALL, tier)
                tier = self._sources[source] = _Window(now)
            if tier.passed >= self.source_burst:
                tier.dropped += 1
                return False
            tier.passed += 1
        window.passed += 1
        return True

    @property
    def tracked(self) -> int:
        """Windows held in memory now (bounded by ``max_keys`` plus one overflow window per source)."""
        return len(self._windows) + len(self._sources)

    def take_reports(self) -> list[RateLimitReport]:
        """Reports for every window that has ended with drops since the last call; ended windows go."""
        now = self._clock()
        for key, window in list(self._windows.items()):
            if now - window.started >= self.interval_s:
                if window.dropped:
                    self._report(key[0], key[1], window)
                del self._windows[key]
        for source, tier in list(self._sources.items()):
            if now - tier.started >= self.interval_s:
                if tier.dropped:
                    self._report(source, ALL, tier)
                del self._sources[source]
        reports, self._pending = self._pending, []
        return reports

    def _report(self, source: str, category: str, window: _Window) -> None:
        self._pending.append(RateLimitReport(source, category, window.dropped, self.interval_s))
