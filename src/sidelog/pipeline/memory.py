"""The process's memory: the cyclic collector's settings, and handing freed heap back to the OS.

sidelog allocates many short-lived objects per event (decoded JSON, ``Event`` models,
rows) and almost none of them form reference cycles, so the cyclic collector mostly
scans for nothing: with CPython's default gen-0 threshold (700 allocations) it ran
every few hundred events, a few µs per event on the event loop. Two settings fix
that (``tune_collector``, applied by ``sidelog.server.tune_process``):

* a larger gen-0 threshold, so young-generation scans are rarer (reference counting
  still frees every acyclic object at once; only cycles wait longer);
* ``gc.freeze()`` once start-up is over (``freeze_start_up``): the tens of thousands of
  objects of the imported modules move to a permanent generation that full
  collections no longer walk.

Objects over 512 bytes (long messages, ``details``, socket buffers) come from glibc's
``malloc``, which keeps the pages a flood freed inside its heap; ``release_heap`` calls
``malloc_trim(0)`` once a flood has drained (pipeline/batcher.py), which hands free pages
back to the OS. It is a no-op where glibc is not the allocator (macOS, musl). CPython's
own small-object arenas are returned only when wholly empty, which no call can force.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from functools import cache

GEN0_THRESHOLD = 50_000
"""Allocations (minus deallocations) of tracked objects between two young-generation scans.

Measured with ``python -m sidelog.bench.gc_ingest`` (a 100k-event flood into ``sidelog
serve``, collector time per event timed inside the server, on a loaded 2-core machine):
CPython's defaults (700, no freeze) 402 collections, 8.6 µs per event; frozen start-up
6.3 µs; with 5,000 3.3 µs; 20,000 2.8 µs; 50,000 one collection, 0.1 µs. Acyclic
objects are still freed at once by reference counting; only cyclic garbage waits
longer, and one scan of 50,000 young objects takes milliseconds. Older generations
keep CPython's ratios."""

FLOOD_EVENTS = 5_000
"""A queue that held at least this many events was a flood: trim once it has drained."""


def tune_collector() -> None:
    """Raise the young generation's threshold (idempotent; older generations unchanged)."""
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


def freeze_start_up(generation: int = 2) -> None:
    """Collect once, then move every surviving object to the permanent generation.

    Called when start-up is over (endpoints bound): what exists then — modules, classes,
    settings, the engine — lives as long as the process, so full collections need not
    walk it again. ``generation=1`` collects only the young generations: start-up's own
    garbage, without a full scan (the UI's choice, as the full scan is a pause on screen).
    """
    gc.collect(generation)
    gc.freeze()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once among the symbols already loaded (no
    ``find_library``: it may run ``ldconfig``); ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only where it can be used, and only once a flood has drained

    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


def release_heap() -> bool:
    """Give the C heap's free pages back to the OS; return whether anything was released.

    Blocking (milliseconds on a large heap): call it off the event loop, e.g. through
    ``asyncio.to_thread``; ctypes releases the GIL for the call.
    """
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


__all__ = ["FLOOD_EVENTS", "GEN0_THRESHOLD", "freeze_start_up", "release_heap", "tune_collector"]
