"""Events per time bucket and level: the counts behind the UI's histogram above the stream.

A ``Window`` is a row of equal buckets (the histogram's columns) ending at a bucket
boundary; ``window_for`` places it so that the active time range (``since``/``until``)
or else *now* is in view. ``read_histogram`` counts the events of a filter in it with
one ``GROUP BY bucket, level`` over the window's ranges of ``ix_events_level_time`` (one
per stored level, ``LEVEL_TIME_RANGE``) or another filter's index, in one statement, so the
counts and the newest id they include come from one snapshot: the UI then adds live
events above that id, never one twice.

The histogram counts every condition of the filter except its time range: it shows the
range in context (what lies outside is drawn dimmed), so the next error spike can be
found beside the one in view. Events dated after *now* (a sender's clock running ahead,
or a far-future timestamp) are counted apart as ``later``, never stretching the window.

Filters on level only (or none) are counted from the ``(level, timestamp)`` index alone
(``store/histogram_levels.py``): about 50 ms for a window over a million events. Other
filters: SQLite reads the window's index entries and looks up each row, about 1-2 µs an
event, so a window of 50,000 events costs tens of milliseconds and one over a whole
million-event store about a second. Without ``ANALYZE`` statistics the planner
prefers an equality index (``level = ?``, ``category = ?``) to the time ranges even
for a narrow window, which would read every event of that level in the store; the
reader's in-memory facet counts say which path reads fewer rows (``prefer_time_index``)
and ``INDEXED BY`` holds SQLite to it. tests/store/test_histogram.py checks the plans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sidelog.events import LEVELS
from sidelog.filters import EventFilter
from sidelog.store.histogram_levels import level_counts_sql, levels_only
from sidelog.store.reader import StoreReader, filter_sql
from sidelog.store.schema import HISTOGRAM_ONLY, LEVEL_TIME_RANGE, STORED_LEVELS
from sidelog.timespec import MAX_MS

ZOOM_STEPS_MS: tuple[int, ...] = (
    1_000,
    5_000,
    15_000,
    60_000,
    5 * 60_000,
    15 * 60_000,
    3_600_000,
    6 * 3_600_000,
    86_400_000,
    7 * 86_400_000,
)
"""Bucket sizes the zoom keys step through, finest first."""
DEFAULT_ZOOM = 3
"""One minute a column: about an hour and a half of history on an 100-column stream."""
MAX_BUCKETS = 1_000
"""Columns counted at most (a wider terminal shows this many)."""


@dataclass(frozen=True, slots=True)
class Window:
    """``buckets`` buckets of ``bucket_ms`` from ``start`` (a multiple of ``bucket_ms``)."""

    start: int
    bucket_ms: int
    buckets: int

    @property
    def end(self) -> int:
        """The first instant after the window."""
        return self.start + self.bucket_ms * self.buckets

    def bucket_of(self, timestamp: int) -> int | None:
        """The bucket holding ``timestamp``, or ``None`` outside the window."""
        if timestamp < self.start or timestamp >= self.end:
            return None
        return (timestamp - self.start) // self.bucket_ms

    def bounds(self, bucket: int) -> tuple[int, int]:
        """``(since, until)`` of one bucket: the time-range filter that shows it."""
        since = self.start + bucket * self.bucket_ms
        return since, since + self.bucket_ms


def window_for(
    *, now: int, bucket_ms: int, buckets: int, since: int | None = None, until: int | None = None
) -> Window:
    """The window of ``buckets`` columns that shows the time range, else ends with *now*.

    With a range, the window is centred on it, but never ends more than one bucket
    after *now* unless the range itself lies in the future. Every bound is clamped to
    the years 1970-9999, so an odd timestamp cannot produce a window no clock can name.
    """
    buckets = max(0, min(buckets, MAX_BUCKETS))
    span = bucket_ms * buckets
    now = _clamp(now)
    if since is None and until is None:
        end = now + 1
    else:
        high = _clamp(until if until is not None else max(now, since or 0) + 1)
        low = _clamp(since if since is not None else high - span)
        if high - low >= span:  # wider than the window: its newest part, as the stream shows it
            end = min(high, now + 1) if low <= now else high
        else:  # centred, but not reaching past now unless the range does
            end = (low + high) // 2 + span // 2
            if end > now + 1:
                end = max(now + 1, high)
    end = -(-_clamp(end) // bucket_ms) * bucket_ms  # up to a bucket boundary
    return Window(start=max(0, end - span), bucket_ms=bucket_ms, buckets=buckets)


def _clamp(ms: int) -> int:
    return min(max(ms, 0), MAX_MS)


@dataclass(slots=True)
class Histogram:
    """Matching events per bucket and level in a window, and those dated after it."""

    window: Window
    counts: dict[str, list[int]] = field(default_factory=dict)
    """Per level (``LEVELS``), one count per bucket."""
    later: int = 0
    """Matching events dated at or after the window's end (only for a window that ends at *now*)."""
    newest_id: int = 0
    """The newest event id counted: live events up to it are already in."""
    counts_later: bool = True
    """Whether events after the window count as ``later`` (the window ends at *now*)."""
    empty_store: bool = False
    """The store held no event at all when counted (the UI says so in one line)."""

    def __post_init__(self) -> None:
        for level in LEVELS:
            self.counts.setdefault(level, [0] * self.window.buckets)

    def add(self, timestamp: int, level: str) -> bool:
        """Count one live event; ``False`` when it falls outside the window."""
        bucket = self.window.bucket_of(timestamp)
        if bucket is not None and level in self.counts:
            self.counts[level][bucket] += 1
            return True
        if timestamp >= self.window.end and self.counts_later:
            self.later += 1
            return True
        return False

    def totals(self) -> list[int]:
        """Events per bucket, every level."""
        return [sum(column) for column in zip(*self.counts.values(), strict=True)]

    @property
    def total(self) -> int:
        """Events in the window."""
        return sum(sum(values) for values in self.counts.values())

    def slid(self, window: Window) -> Histogram | None:
        """This histogram moved to ``window`` (same bucket size, later start), buckets that
        leave dropped and new ones empty; ``None`` when the move needs a fresh count (events
        dated after the old window may now fall inside it)."""
        old = self.window
        if window.bucket_ms != old.bucket_ms or window.buckets != old.buckets or window.start < old.start:
            return None
        if (window.start - old.start) % old.bucket_ms or (self.later and window.end > old.end):
            return None
        shift = min((window.start - old.start) // old.bucket_ms, old.buckets)
        counts = {level: values[shift:] + [0] * shift for level, values in self.counts.items()}
        return replace(self, window=window, counts=counts)


def counting_filter(flt: EventFilter) -> EventFilter:
    """``flt`` without its time range: the histogram shows the range in context."""
    return replace(flt, since=None, until=None)


def histogram_sql(flt: EventFilter, window: Window, *, by_time: bool, later: bool) -> tuple[str, list[Any]]:
    """One statement: ``(bucket, level, count, max id)`` rows of ``flt`` in ``window``; with
    ``later``, events dated after the window land in bucket ``window.buckets``. ``by_time``
    holds SQLite to the window's ranges of ``ix_events_level_time`` (``prefer_time_index``
    says when)."""
    terms, params = filter_sql(counting_filter(flt))
    if by_time:  # the filter's own levels' ranges if it names some, else every stored level's
        terms.append(HISTOGRAM_ONLY if flt.levels else LEVEL_TIME_RANGE)
    terms.append("timestamp >= ?")
    params.append(window.start)
    if not later:
        terms.append("timestamp < ?")
        params.append(window.end)
    index = " INDEXED BY ix_events_level_time" if by_time else ""
    sql = (
        "SELECT min((timestamp - ?) / ?, ?) AS bucket, level, count(*), max(id)"
        f" FROM events{index} WHERE {' AND '.join(terms)} GROUP BY bucket, level"
    )
    return sql, [window.start, window.bucket_ms, window.buckets, *params]


SPAN_SQL = (
    f"WITH levels(level) AS ({STORED_LEVELS}) SELECT"
    f" (SELECT min((SELECT min(timestamp) FROM events WHERE level = levels.level AND {HISTOGRAM_ONLY}))"
    " FROM levels),"
    f" (SELECT max((SELECT max(timestamp) FROM events WHERE level = levels.level AND {HISTOGRAM_ONLY}))"
    " FROM levels),"
    " (SELECT max(id) FROM events)"
)
"""The store's time span and its newest id: two seeks into ``ix_events_level_time`` per
stored level (the first and the last of its range), well under a millisecond."""


def prefer_time_index(flt: EventFilter, facets: Mapping[str, Mapping[str, int]], window_rows: float) -> bool:
    """Whether reading the window's timestamp range visits fewer rows than reading the
    events of the filter's values (``facets``: events per level, category and source)."""
    if any(value is not None for value in (flt.user, flt.session, flt.fingerprint, flt.trace)):
        return False  # partial indexes of rare values: the planner's own choice is right
    value_rows = [
        sum(facets.get(name, {}).get(value, 0) for value in values)
        for name, values in (("level", flt.levels), ("category", flt.categories), ("source", flt.sources))
        if values
    ]
    return not value_rows or window_rows <= min(value_rows)


def window_rows(window: Window, stored: int, first: int | None, last: int | None) -> float:
    """Events expected in ``window`` if the ``stored`` ones spread evenly from ``first`` to ``last``."""
    if first is None or last is None or stored <= 0:
        return 0.0
    overlap = min(window.end, last + 1) - max(window.start, first)
    return stored * max(0, overlap) / max(1, last + 1 - first)


async def read_histogram(
    reader: StoreReader,
    flt: EventFilter,
    window: Window,
    *,
    now: int,
    facets: Mapping[str, Mapping[str, int]] | None = None,
) -> Histogram:
    """Count ``flt``'s events in ``window`` (events after it as ``later`` when it ends at
    ``now`` or beyond); ``facets`` (the engine's in-memory counts) picks the index."""
    first, last, top = (await reader._all(SPAN_SQL))[0]  # the reader's pool and in-flight guard
    later = window.end >= now
    histogram = Histogram(window, counts_later=later, newest_id=0)
    if top is None or window.buckets == 0:
        histogram.empty_store = top is None
        return histogram
    if levels_only(flt) and _is_sqlite(reader):  # from ix_events_level_time alone
        sql, params = level_counts_sql(flt, window.start, window.bucket_ms, window.buckets, later=later)
    else:
        stored = sum((facets or {}).get("level", {}).values())
        by_time = prefer_time_index(flt, facets or {}, window_rows(window, stored, first, last))
        sql, params = histogram_sql(flt, window, by_time=by_time, later=later)
    for bucket, level, count, newest in await reader._all(sql, params):
        histogram.newest_id = max(histogram.newest_id, int(newest or 0))
        if bucket >= window.buckets:
            histogram.later += int(count)
        elif level in histogram.counts and bucket >= 0:
            histogram.counts[level][int(bucket)] += int(count)
    return histogram


def _is_sqlite(reader: StoreReader) -> bool:
    engine = getattr(reader, "_engine", None)
    return getattr(getattr(engine, "dialect", None), "name", "sqlite") == "sqlite"


def spikes(errors: list[int]) -> list[tuple[int, int]]:
    """Runs ``(first, last)`` of buckets whose errors stand out: at least twice the window's
    mean and at least half its peak (one error in a quiet window is a spike; a steady rate
    of errors is none)."""
    peak = max(errors, default=0)
    if peak == 0:
        return []
    threshold = max(2 * sum(errors) / len(errors), peak / 2, 1.0)
    runs: list[tuple[int, int]] = []
    for index, count in enumerate(errors):
        if count >= threshold:
            if runs and runs[-1][1] == index - 1:
                runs[-1] = (runs[-1][0], index)
            else:
                runs.append((index, index))
    return runs


__all__ = [
    "DEFAULT_ZOOM",
    "MAX_BUCKETS",
    "SPAN_SQL",
    "ZOOM_STEPS_MS",
    "Histogram",
    "Window",
    "counting_filter",
    "histogram_sql",
    "prefer_time_index",
    "read_histogram",
    "spikes",
    "window_for",
    "window_rows",
]
