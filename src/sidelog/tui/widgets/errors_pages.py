"""The errors pane's reads: a page of groups and what its rows show beside each group.

A page costs a bounded number of queries whatever the store holds: the groups (one
keyset page, store/group_pages.py), then for those rows only the exception type of
each newest event, the last 24 hours of events per group (one covering range of the
fingerprint index, store/group_activity.py), the reports (only when a new one arrived,
else remembered) and the snoozes. Each is kept per group and read again only when it
can have changed (the group's count, the two-hour bucket, the newest report), so the
first page read again every second under a flood costs little more than the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Unpack

from textual.cache import LRUCache

from sidelog.engine import Engine
from sidelog.store.group_activity import BUCKET_MS, SparkReader, reports_counts, reports_mark
from sidelog.store.group_pages import GroupQuery
from sidelog.store.group_snooze import Snooze, snoozes_of
from sidelog.store.models import ErrorGroup
from sidelog.tui.widgets.errors_rows import RowExtras

_CACHED = 50_000
"""Groups whose type, sparkline and reports are remembered (a few MB at most)."""


def event_ids(groups: Iterable[ErrorGroup], known: Iterable[int]) -> list[int]:
    """The newest events of ``groups`` whose exception type is not known yet."""
    seen = set(known)
    return sorted({g.last_event_id for g in groups if g.last_event_id and g.last_event_id not in seen})


class PageReader:
    """Reads pages of groups with the exception type, sparkline, reports and snooze of each."""

    def __init__(self, engine: Engine, clock: Callable[[], int]) -> None:
        self._engine = engine
        self._clock = clock
        self._kinds: LRUCache[int, str] = LRUCache(_CACHED)
        """Exception type by newest-event id ("" for none), read once per event."""
        self._sparks: LRUCache[str, tuple[int, int, tuple[int, ...]]] = LRUCache(_CACHED)
        """``(bucket, count, sparkline)`` by fingerprint: read again when either changes."""
        self._spark_reader = SparkReader(engine.reader)
        self._reports: LRUCache[str, int] = LRUCache(_CACHED)
        self._reports_mark = -1
        """The newest report's id when ``_reports`` was read (-1: never)."""
        self._snoozes: dict[str, Snooze] = {}
        self.looked_at: int | None = None
        """When the pane was last looked at: groups first seen later are marked new."""

    def kind(self, group: ErrorGroup) -> str:
        """The exception type of ``group``'s newest event, as far as read ("" if none)."""
        return self._kinds.get(group.last_event_id or 0) or ""

    def extras(self, group: ErrorGroup) -> RowExtras:
        """What ``group``'s row shows besides the group, as far as read."""
        spark = self._sparks.get(group.fingerprint)
        snooze = self._snoozes.get(group.fingerprint)
        looked = self.looked_at
        return RowExtras(
            spark=spark[2] if spark is not None else (),
            reports=self._reports.get(group.fingerprint) or 0,
            new=looked is not None and group.first_seen > looked,
            snoozed=snooze.describe(self._clock()) if snooze is not None else "",
        )

    async def page(self, *, limit: int, **query: Unpack[GroupQuery]) -> tuple[list[ErrorGroup], bool]:
        """Up to ``limit`` groups and whether more follow, with each newest event's exception type."""
        page = await self._engine.groups(limit=limit + 1, **query)
        more = len(page) > limit
        del page[limit:]
        wanted = event_ids(page, self._kinds.keys())
        if wanted:
            found = await self._engine.reader.exception_types(wanted)
            for event_id in wanted:
                self._kinds[event_id] = found.get(event_id, "")
        return page, more

    async def read_extras(self, page: list[ErrorGroup]) -> None:
        """Read what the rows of ``page`` show besides the groups (after the rows are drawn,
        so the pane opens at the speed of the page and the extras follow a query later)."""
        reader = self._engine.reader
        now = self._clock()
        bucket = now // BUCKET_MS
        stale = [
            g.fingerprint
            for g in page
            if (known := self._sparks.get(g.fingerprint)) is None or known[:2] != (bucket, g.count)
        ]
        if stale:
            counts = {g.fingerprint: g.count for g in page}
            for fingerprint, values in (await self._spark_reader.counts(stale, now)).items():
                self._sparks[fingerprint] = (bucket, counts[fingerprint], tuple(values))
        mark = await reports_mark(reader)
        if mark != self._reports_mark:
            self._reports.clear()
            self._reports_mark = mark
        unread = [g.fingerprint for g in page if g.fingerprint not in self._reports]
        if unread:
            found = await reports_counts(reader, unread) if mark else {}
            for fingerprint in unread:
                self._reports[fingerprint] = found.get(fingerprint, 0)
        snoozes = await snoozes_of(reader, [g.fingerprint for g in page], now)
        for group in page:
            self._snoozes.pop(group.fingerprint, None)
        self._snoozes.update(snoozes)
