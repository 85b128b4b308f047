"""The measuring method of ``bench/integrations.py``: calls in pairs, and the sender's share.

Each call is timed on its own by the CPU time of the calling thread
(``time.thread_time_ns``), calls of the two clients alternating (ABBA…); the added
cost is the median of the differences of adjacent calls, with its interquartile range
and a 95 % confidence interval of the median (order statistics). Why single calls and
not batches: on a shared machine the noise is sporadic (a preemption, then caches
refilled at this thread's expense), so most single calls are clean and their median
is steady, while nearly every batch of ten catches some of it: batches of ten gave an
interquartile range of ±25 µs and a confidence interval 6 µs wide on a loaded 2-core
machine, single calls one under 0.5 µs wide for the same time spent. The median is the
typical call; what a hook hands to the sender thread is not in it, so ``sender_cost``
measures that separately.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger


def compare(plain: Callable[[], Any], traced: Callable[[], Any], n: int) -> dict[str, Any]:
    """µs per call without and with the hook, and the added cost with its spread.

    Single calls of each client alternate (ABBA…), each pair timed back to back, so a
    change in the machine's load hits both sides of a pair alike; the added cost is
    the median of the pairs' differences (see the module docstring for why single
    calls). Time is the CPU time of this thread, not wall time: on a shared machine a
    call's wall time includes however long the scheduler kept it waiting, which says
    nothing about the hook and swamps a few µs. The garbage collector is off while
    the pairs run (a collection would land on one side only) and runs between every
    500 pairs, outside the timing.
    """
    clock = time.thread_time_ns
    pairs = max(20, n)
    for _ in range(min(n // 4, 500)):  # warm both paths (imports, caches, pools)
        plain()
        traced()
    without = [0] * pairs
    with_hook = [0] * pairs
    gc.collect()
    gc.disable()  # a collection inside one side's call would count against it only
    try:
        for index in range(pairs):
            if index % 2:
                started = clock()
                traced()
                middle = clock()
                plain()
                without[index], with_hook[index] = clock() - middle, middle - started
            else:
                started = clock()
                plain()
                middle = clock()
                traced()
                without[index], with_hook[index] = middle - started, clock() - middle
            if index % 500 == 499:
                gc.collect()
    finally:
        gc.enable()
    added = sorted((b - a) / 1000 for a, b in zip(without, with_hook, strict=True))
    count = len(added)
    quarter = count // 4
    low = max(0, int(count / 2 - 0.98 * math.sqrt(count)))  # 95 % interval of the median
    return {
        "without_us": round(statistics.median(without) / 1000, 3),
        "with_us": round(statistics.median(with_hook) / 1000, 3),
        "added_us": round(statistics.median(added), 3),
        "added_iqr_us": [round(added[quarter], 3), round(added[-quarter - 1], 3)],
        "added_ci95_us": [round(added[low], 3), round(added[count - 1 - low], 3)],
        "pairs": count,
    }


def sender_cost(instrument: Callable[[EventLogger], Callable[[], Any]], rounds: int = 2_000) -> float | None:
    """Sender-thread CPU µs to turn one event of the hook into its wire line (median of rounds).

    ``instrument(logger)`` sets up a client logging to ``logger`` and returns one call;
    the items that call queues are captured (the logger sends nothing) and encoded as
    the sender encodes them (``encode_line``: a deferred item's message and details
    are built there).
    """
    from sidelog_client.encode import encode_line

    items: list[tuple[Any, ...]] = []
    log = EventLogger("127.0.0.1:9", config=ClientConfig(), enabled=False)
    log._on = True  # a started logger without its thread: the queued items stay here
    log._append = items.append
    call = instrument(log)
    call()
    if not items:
        return None
    item = items[-1]
    clock = time.thread_time_ns
    samples = []
    for _ in range(rounds):
        started = clock()
        encode_line(item, "0123456789abcdef-1", "server")
        samples.append(clock() - started)
    return round(statistics.median(samples) / 1000, 3)
