"""Checking that code costs linear time on hostile input, without asserting seconds.

A regex that backtracks or a loop that re-scans turns a crafted megabyte into minutes on
the event loop. Instead of a wall-clock bound (which a busy machine breaks), the check
times the same work at size ``n`` and ``10 n`` in the same run, best of three each, and
requires the larger to cost less than ``FACTOR`` times the smaller: linear code costs
about 10 times as much (up to ~35 with cache effects), quadratic code 100 times.
"""

from __future__ import annotations

import time
from collections.abc import Callable

FACTOR = 50.0
FLOOR_S = 2e-4
"""Below this a timing is mostly noise: the small size counts as at least this long."""


def _best(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def assert_linear(work: Callable[[int], object], n: int) -> None:
    """``work(k)`` handles an input of size ``k``; fail if ``10 n`` costs 50 times ``n`` or more."""
    small = _best(lambda: work(n))
    large = _best(lambda: work(10 * n))
    assert large < FACTOR * max(small, FLOOR_S), f"size {n}: {small:.4f} s, size {10 * n}: {large:.4f} s"
