"""Per-(source, category) rate limits, journald-style: a burst per fixed interval.

Excess events are dropped and counted; each interval that dropped something is
reported once (the engine turns reports into ``system`` events) so a flood shows
up as one line, not as silence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimitReport:
    """Events dropped from one (source, category) in one interval."""

    source: str
    category: str
    dropped: int
    interval_s: float


class RateLimiter:
    """Fixed-window counters; ``burst == 0`` disables limiting."""

    def __init__(self, burst: int, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.interval_s = interval_s
        self._clock = clock
        self._windows: dict[tuple[str, str], list[float]] = {}
        self._pending: list[RateLimitReport] = []

    def allow(self, source: str, category: str) -> bool:
        """Count one event; ``False`` when its (source, category) is over the burst."""
        if self.burst == 0:
            return True
        key = (source, category)
        window = self._windows.get(key)
        now = self._clock()
        if window is None or now - window[0] >= self.interval_s:
            if window is not None and window[2]:
                self._pending.append(RateLimitReport(source, category, int(window[2]), self.interval_s))
            self._windows[key] = [now, 1, 0]
            return True
        if window[1] < self.burst:
            window[1] += 1
            return True
        window[2] += 1
        return False

    def take_reports(self) -> list[RateLimitReport]:
        """Reports for every window that has ended with drops since the last call."""
        now = self._clock()
        for key, window in list(self._windows.items()):
            if now - window[0] >= self.interval_s:
                if window[2]:
                    self._pending.append(RateLimitReport(key[0], key[1], int(window[2]), self.interval_s))
                del self._windows[key]
        reports, self._pending = self._pending, []
        return reports
