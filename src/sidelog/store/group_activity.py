"""What the errors pane shows beside each group, read for one page of groups at a time.

- **The last 24 hours** as ``BUCKETS`` counts of ``BUCKET_MS`` each (a sparkline), from
  the partial index of events by fingerprint alone. An index entry holds the fingerprint
  and the row id, not the time, so the bucket edges are turned into row ids first: the
  first id received at or after each edge, one seek each of ``ix_events_received_at``,
  read once per bucket (an edge no event has reached yet is read again next time). The
  counts are then ``WHERE fingerprint IN (page) AND id >= first edge``, bucketed by id:
  a covering range of the index per group, never a row. Ids follow arrival order, so an
  event whose clock stepped back across an edge may land one bucket off.
- **Reports**: how many users reported each group through feedback (category
  ``feedback``, whose ``details.related_groups`` lists the groups it is about, see
  store/feedback_links.py), counting a user once (else a session, else the report). The
  feedback events are read from ``ix_events_category``; reports are rare and rate
  limited, and the caller reads them again only when a new one arrived (``reports_mark``).
  SQLite reads the list with ``json_each``; PostgreSQL with its ``jsonb`` functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sidelog.store.feedback_links import CATEGORY

if TYPE_CHECKING:
    from sidelog.store.reader import StoreReader

__all__ = ["BUCKETS", "BUCKET_MS", "SparkReader", "reports_counts", "reports_mark"]

BUCKETS = 12
BUCKET_MS = 2 * 3_600_000
"""Twelve two-hour buckets: the last 22 to 24 hours, the newest bucket still filling."""


def bucket_starts(now: int) -> list[int]:
    """The start of each bucket, oldest first; the last one holds ``now``."""
    current = now // BUCKET_MS
    return [(current - BUCKETS + 1 + k) * BUCKET_MS for k in range(BUCKETS)]


def spark_sql(fingerprints: list[str], edges: list[int]) -> tuple[str, list[object]]:
    """Events per group and bucket from ``edges`` (the first id of each bucket, oldest first,
    those not reached yet left out); tests/store/test_group_activity.py checks its plan."""
    marks = ", ".join("?" for _ in fingerprints)
    cases = " ".join(f"WHEN id >= ? THEN {k}" for k in reversed(range(1, len(edges))))
    bucket = f"CASE {cases} ELSE 0 END" if cases else "0"
    sql = (
        f"SELECT fingerprint, {bucket} AS bucket, count(*) FROM events "
        f"WHERE fingerprint IN ({marks}) AND id >= ? GROUP BY fingerprint, bucket"
    )
    return sql, [*reversed(edges[1:]), *fingerprints, edges[0]]


class SparkReader:
    """Each group's events per bucket over the last 24 hours, bucket edges remembered."""

    def __init__(self, reader: StoreReader) -> None:
        self._reader = reader
        self._edges: dict[int, int] = {}
        """First row id at or after each bucket start, by start (only those found)."""

    async def edges(self, now: int) -> list[int]:
        """The first id of each bucket that has begun to fill, oldest first."""
        starts = bucket_starts(now)
        missing = [start for start in starts if start not in self._edges]
        if missing:
            picks = ", ".join(
                "(SELECT id FROM events WHERE received_at >= ? ORDER BY received_at LIMIT 1)" for _ in missing
            )
            # The reader's own read path: its pool and its in-flight guard (store/reader.py).
            row = (await self._reader._all(f"SELECT {picks}", missing))[0]
            for start, first_id in zip(missing, row, strict=True):
                if first_id is not None:
                    self._edges[start] = int(first_id)
        for start in [start for start in self._edges if start < starts[0]]:
            del self._edges[start]
        edges: list[int] = []
        for start in starts:
            if start not in self._edges:
                break  # no event since this start yet, so none in any later bucket either
            edges.append(max(self._edges[start], edges[-1] if edges else 0))
        return edges

    async def counts(self, fingerprints: list[str], now: int) -> dict[str, list[int]]:
        """``BUCKETS`` counts per group, oldest first (all zero for a quiet group)."""
        found: dict[str, list[int]] = {fingerprint: [0] * BUCKETS for fingerprint in fingerprints}
        if not fingerprints:
            return found
        edges = await self.edges(now)
        if not edges:
            return found
        sql, params = spark_sql(fingerprints, edges)
        for fingerprint, bucket, count in await self._reader._all(sql, params):
            found[fingerprint][int(bucket)] = int(count)
        return found


_PG_REPORTS_SQL = (
    "SELECT related.value, count(DISTINCT coalesce(e.user_id, e.session_id, e.id::text)) "
    "FROM events AS e CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN "
    "jsonb_typeof(e.details -> 'related_groups') = 'array' THEN e.details -> 'related_groups' "
    "ELSE '[]'::jsonb END) AS related(value) "
    "WHERE e.category = ? AND related.value IN ({marks}) GROUP BY related.value"
)
"""``reports_counts`` on PostgreSQL: ``details`` is ``jsonb`` there (always valid), its
list read with ``jsonb_array_elements_text``; the id is cast to text to coalesce with
the user and session (SQLite compares mixed types, PostgreSQL refuses to)."""


async def reports_mark(reader: StoreReader) -> int:
    """The newest feedback event's id (0 for none): reports changed only if it did."""
    rows = await reader._all("SELECT max(id) FROM events WHERE category = ?", (CATEGORY,))
    return int(rows[0][0] or 0)


async def reports_counts(reader: StoreReader, fingerprints: list[str]) -> dict[str, int]:
    """How many users reported each of these groups (groups nobody reported are left out)."""
    if not fingerprints:
        return {}
    marks = ", ".join("?" for _ in fingerprints)
    if reader._engine.dialect.name == "postgresql":
        rows = await reader._all(_PG_REPORTS_SQL.format(marks=marks), (CATEGORY, *fingerprints))
        return {str(value): int(count) for value, count in rows}
    rows = await reader._all(
        "SELECT related.value, count(DISTINCT coalesce(e.user_id, e.session_id, e.id)) "
        "FROM events AS e, json_each(e.details, '$.related_groups') AS related "
        "WHERE e.category = ? AND instr(e.details, 'related_groups') > 0 AND json_valid(e.details) "
        f"AND related.value IN ({marks}) GROUP BY related.value",
        (CATEGORY, *fingerprints),
    )
    return {str(value): int(count) for value, count in rows}
