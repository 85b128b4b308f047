"""Snoozing an error group: hidden from the unresolved list for a time or until N more events.

A developer who knows an error will keep coming until tomorrow's deploy snoozes its
group instead of resolving it (a resolve would only bring it back as a regression).
The snooze is a row of ``group_snoozes`` (store/schema.py): ``until_ms`` for a time,
``until_count`` for "the group's count reached what it was plus N". It hides the group
while all of these hold, checked in the page query itself (``HIDE_SNOOZED``), so paging
stays keyset-exact:

- the time has not come and the count has not grown by N;
- the group was first seen before the snooze: a group deleted (``ClearJob``) and made
  again by a new error with the same fingerprint is a new group, not snoozed;
- the group has not been resolved since: a regression always shows.

A snooze left by a deleted group is therefore ignored by every read, and the next
snooze written sweeps every snooze that no longer hides anything, so the table stays
as small as the set of groups snoozed now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sidelog.store.group_pages import ACTIVE_SNOOZE as _ACTIVE
from sidelog.store.group_pages import HIDE_SNOOZED
from sidelog.store.pg_triage import announce_groups
from sidelog.timespec import MAX_MS, parse_time

if TYPE_CHECKING:
    from sidelog.store.reader import StoreReader
    from sidelog.store.retention import JobWriter

__all__ = [
    "HIDE_SNOOZED",
    "MAX_EVENTS",
    "MAX_SNOOZE_MS",
    "Snooze",
    "SnoozeJob",
    "SnoozeSpec",
    "parse_snooze",
    "snoozed_count",
    "snoozes_of",
]

MAX_SNOOZE_MS = 366 * 86_400_000
"""The longest snooze (a year): longer is a resolve, or a typo."""
MAX_EVENTS = 1_000_000_000
"""The most events a snooze may wait for."""

_EVENTS = re.compile(r"\+\s*(\d+)|(\d+)\s*(?:more\s*)?(?:events?|more)", re.IGNORECASE)
_DURATION = re.compile(r"\d+(?:\.\d+)?\s*[smhdw]", re.IGNORECASE)
_FORMS = "a time such as 1h, 24h or 7d, an ISO date-time, or +N for N more events"


@dataclass(frozen=True, slots=True)
class SnoozeSpec:
    """What the user asked for: until a moment, or until ``events`` more events."""

    until_ms: int | None = None
    events: int | None = None


@dataclass(frozen=True, slots=True)
class Snooze:
    """A group's snooze as stored (active, or past: see ``active``)."""

    fingerprint: str
    snoozed_at: int
    until_ms: int | None
    until_count: int | None

    def describe(self, now: int) -> str:
        """``1h left``, ``12 events left``: what is left of the snooze, for a row."""
        if self.until_ms is not None:
            minutes = -(-max(0, self.until_ms - now) // 60_000)  # rounded up: "1h" for an hour
            if minutes >= 2 * 1440:
                return f"{round(minutes / 1440)}d"
            return f"{round(minutes / 60)}h" if minutes >= 60 else f"{minutes}m"
        return f"+{self.until_count}" if self.until_count is not None else ""


def parse_snooze(text: str, *, now: int) -> SnoozeSpec:
    """``1h``/``24h``/``7d`` (from ``now``), an ISO date-time, or ``+100``/``100 events``;
    ``ValueError`` with a one-line reason for anything else."""
    value = text.strip()
    if not value:
        raise ValueError(f"snooze: say for how long: {_FORMS}")
    counted = _EVENTS.fullmatch(value)
    if counted is not None:
        events = int(counted.group(1) or counted.group(2))
        if not 1 <= events <= MAX_EVENTS:
            raise ValueError(f"snooze: the number of events must be 1 to {MAX_EVENTS:,}")
        return SnoozeSpec(events=events)
    if value.isdigit():
        shown = value[:20]
        raise ValueError(f"snooze: {shown} is ambiguous: write {shown}m for minutes or +{shown} for events")
    if value.startswith("-"):
        raise ValueError("snooze: a snooze lasts into the future (write 1h, not -1h)")
    try:
        if _DURATION.fullmatch(value):  # timespec counts a duration back from "now": measure it
            moment = now + (MAX_MS - parse_time(value, "snooze", now=lambda: MAX_MS))
        else:
            moment = parse_time(value, "snooze", now=lambda: now)
    except ValueError as exc:
        reason = (
            "snooze: at most 366 days (resolve the group instead)" if _DURATION.fullmatch(value) else str(exc)
        )
        raise ValueError(f"snooze must be {_FORMS}" if "must be" in reason else reason) from None
    if moment <= now:
        raise ValueError(f"snooze: {value[:40]} is not in the future")
    if moment - now > MAX_SNOOZE_MS:
        raise ValueError("snooze: at most 366 days (resolve the group instead)")
    return SnoozeSpec(until_ms=moment)


class SnoozeJob:
    """Snooze one group (or wake it: ``spec=None``) in one writer turn (``Engine.run_job``)."""

    def __init__(self, writer: JobWriter, fingerprint: str, spec: SnoozeSpec | None, *, at: int) -> None:
        self._writer = writer
        self._fingerprint = fingerprint
        self._spec = spec
        self._at = at
        self.snooze: Snooze | None = None
        """The snooze written (``None``: woken, or the group does not exist)."""
        self.found = False
        """The group exists."""

    async def step(self) -> bool:
        """One transaction: write or delete the snooze, and sweep snoozes that hide nothing."""
        await self._writer.writable()
        conn = self._writer.conn
        at = self._at
        async with conn.begin():
            row = (
                await conn.exec_driver_sql(
                    "SELECT count FROM error_groups WHERE fingerprint = ?", (self._fingerprint,)
                )
            ).first()
            self.found = row is not None
            await conn.exec_driver_sql(
                "DELETE FROM group_snoozes WHERE fingerprint = ?", (self._fingerprint,)
            )
            await conn.exec_driver_sql(
                "DELETE FROM group_snoozes WHERE fingerprint NOT IN (SELECT s.fingerprint "
                f"FROM group_snoozes AS s JOIN error_groups ON {_ACTIVE})",
                (at,),
            )
            spec = self._spec
            if row is not None and spec is not None:
                until_count = None if spec.events is None else int(row[0]) + spec.events
                self.snooze = Snooze(self._fingerprint, at, spec.until_ms, until_count)
                await conn.exec_driver_sql(
                    "INSERT INTO group_snoozes (fingerprint, snoozed_at, until_ms, until_count) "
                    "VALUES (?, ?, ?, ?)",
                    (self._fingerprint, at, spec.until_ms, until_count),
                )
            if row is not None:
                await announce_groups(conn, getattr(self._writer, "instance", ""), [self._fingerprint])
        return False


async def snoozes_of(reader: StoreReader, fingerprints: list[str], now: int) -> dict[str, Snooze]:
    """The active snoozes of these groups (one query for a page of them)."""
    if not fingerprints:
        return {}
    marks = ", ".join("?" for _ in fingerprints)
    # The reader's own read path: its pool and its in-flight guard (store/reader.py).
    rows = await reader._all(
        "SELECT s.fingerprint, s.snoozed_at, s.until_ms, s.until_count FROM group_snoozes AS s "
        f"JOIN error_groups ON {_ACTIVE} WHERE s.fingerprint IN ({marks})",
        (now, *fingerprints),
    )
    return {row[0]: Snooze(*row) for row in rows}


async def snoozed_count(reader: StoreReader, now: int) -> tuple[int, int | None]:
    """Unresolved groups snoozed now, and the earliest moment a time snooze ends (or ``None``)."""
    rows = await reader._all(
        "SELECT count(*), min(s.until_ms) FROM group_snoozes AS s "
        f"JOIN error_groups ON {_ACTIVE} WHERE error_groups.status = 'unresolved'",
        (now,),
    )
    return int(rows[0][0]), rows[0][1]
