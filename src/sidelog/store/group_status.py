"""Resolve or reopen many error groups at once, in two phases of short writer turns.

Resolving one group (``StoreWriter.set_group_status``, the errors pane's ``r``) changes
the group and flags its events in one transaction. For thousands of groups the flags
are the cost: a group's events lie all over ``events`` (an error recurs across the
whole history), so flagging the 40,000 events of 5,000 groups in a million rewrites
some 28,000 pages, about a second or more of writer time. The user waits for the
groups, not for the flags, so the job runs in two phases (``Engine.run_job`` turns,
ingest batches between them):

1. **Status.** Up to ``GROUPS_PER_TURN`` groups per transaction get their new status
   (only those whose status differs: a group reopened meanwhile by a new event is left
   as it is by an undo, and counted out of ``changed``); the same transaction reads
   the highest event id, the *mark*. ``status_set`` is then resolved with ``changed``,
   so the errors pane reloads at once (about 0.1 s for 5,000 groups).
2. **Flags.** The events of the groups changed in phase 1 get the matching
   ``resolved`` flag, a few dozen groups per transaction (sized to ``FLAG_TURN_S``),
   limited to ids at or below the mark and to groups whose status is still the one
   phase 1 set, checked in the same statement.

The window: between a group's phase-1 turn and its phase-2 turn (about a second for
5,000 groups) the group's status and its events' flags differ: the detail view shows
such an event as unresolved while its group is resolved (or the reverse after an
undo), and ``GET /v1/errors?user=`` may count it as the user's open error. An error
that arrives in the window reopens its group as usual (a regression) and is never
flagged: its id is above the mark, and the group's status is no longer the job's.
The group's earlier events then stay unflagged too: they read as open, like the group.
The flags still to write are kept in ``pending_flags`` (written in phase 1's
transaction, a group's row deleted in the turn that flags its events), so a sidelog
stopped or killed inside the window finishes them when it next opens the store
(``resume_flags``, started by ``Engine.open_store``).

Jobs run one at a time in the writer (``Batcher.run_job``), so a second bulk job would
wait for the first one's flags. Instead a job started with ``after=`` the previous one
takes over what that one has left to flag: the previous job ends at its next turn
(after its own phase 1, which always completes), and the new job runs those turns
after its own phase 1. Every flag turn checks the group's current status, so the order
cannot leave a flag wrong: an undo pressed while the resolve's events are still being
flagged reopens the groups first, the resolve's remaining turns then flag nothing,
and the undo's own turns clear what the resolve had flagged.

PostgreSQL: ids are not committed in id order there (store/pg_writer.py), so another
server's batch may commit an event below the mark after phase 1; such a batch reopens
its group in the same transaction, so the status check leaves its events alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sidelog.store.retention import JobWriter

if TYPE_CHECKING:
    from sidelog.store.reader import StoreReader

__all__ = ["FLAG_TURN_S", "GROUPS_PER_TURN", "GroupStatusJob", "flags_pending", "resume_flags"]

GROUPS_PER_TURN = 5_000
"""Groups per phase-1 transaction (one statement, under SQLite's 32,766 and PostgreSQL's
32,767 parameters; about 0.1 s on a busy 2-core machine)."""
FLAG_TURN_S = 0.04
"""How long a phase-2 turn aims to hold the writer (a batch interval is 50 ms by default)."""
_FIRST_FLAG_GROUPS, _MIN_FLAG_GROUPS, _MAX_FLAG_GROUPS = 50, 5, 500

_RESOLVE_SQL = (
    "UPDATE error_groups SET status = 'resolved', resolved_at = ?, resolve_note = ?, regressed = 0 "
    "WHERE status != 'resolved' AND fingerprint IN ({marks}) RETURNING fingerprint"
)
_REOPEN_SQL = (
    "UPDATE error_groups SET status = 'unresolved', resolved_at = NULL, resolve_note = NULL "
    "WHERE status = 'resolved' AND fingerprint IN ({marks}) RETURNING fingerprint"
)
_MARK_SQL = "SELECT coalesce(max(id), 0) FROM events"
_PENDING_SQL = (
    "INSERT INTO pending_flags (fingerprint, resolved, mark) VALUES (?, ?, ?) "
    "ON CONFLICT (fingerprint) DO UPDATE SET resolved = excluded.resolved, mark = excluded.mark"
)
_DONE_SQL = "DELETE FROM pending_flags WHERE resolved = ? AND mark = ? AND fingerprint IN ({marks})"
"""A turn's groups are done; a row a later job replaced (another direction or mark) stays."""
_RESUME_SQL = "SELECT fingerprint, resolved, mark FROM pending_flags ORDER BY mark, fingerprint"
_FLAG_SQL = (
    "UPDATE events SET resolved = ? WHERE resolved = ? AND id <= ? AND fingerprint IN ({marks}) "
    "AND EXISTS (SELECT 1 FROM error_groups AS g WHERE g.fingerprint = events.fingerprint AND g.status = ?)"
)
"""Phase 2: one probe of the group's primary key per event, in the statement that writes
(on PostgreSQL one snapshot, so a group reopened by a commit meanwhile is seen as such)."""


@dataclass(slots=True)
class _Flags:
    """Events still to flag: those of ``fingerprints`` up to id ``mark``, for groups whose
    status is still ``resolved`` (or unresolved when False)."""

    fingerprints: list[str]
    mark: int
    resolved: bool


class GroupStatusJob:
    """Set ``status`` of the given groups (phase 1), then their events' ``resolved`` flag (phase 2)."""

    def __init__(
        self,
        writer: JobWriter,
        fingerprints: Sequence[str],
        *,
        resolved: bool,
        at: int,
        note: str | None = None,
        after: GroupStatusJob | None = None,
        status_set: asyncio.Future[list[str]] | None = None,
    ) -> None:
        """``after``: an earlier job whose flags not yet written this one takes over;
        ``status_set``: resolved with ``changed`` once every group has its new status."""
        self._writer = writer
        self._left = list(dict.fromkeys(fingerprints))
        self._resolved = resolved
        self._at = at
        self._note = note
        self._status_set = status_set
        self._flags: deque[_Flags] = deque()
        self._successor: GroupStatusJob | None = None
        self._flag_groups = _FIRST_FLAG_GROUPS
        self._resuming = False
        self.changed: list[str] = []
        """The fingerprints whose status this job changed, in the order given."""
        self.status_done = False
        """Phase 1 is over: every group has its new status."""
        self.finished = False
        """Phase 2 is over too (or was handed to a later job)."""
        self.flagged = 0
        """Events whose ``resolved`` flag this job's turns changed (taken-over turns included)."""
        self.status_turns: list[float] = []
        """Seconds each phase-1 transaction held the writer."""
        self.turns: list[float] = []
        """Seconds each transaction held the writer, both phases (``sidelog bench --ui``: the longest)."""
        if after is not None:
            after._hand_over(self)

    async def step(self) -> bool:
        """One transaction: the next groups' status, else the next events' flags; True while work remains."""
        if self._resuming:
            self._resuming = False
            await self._read_pending()
        if self._left:
            await self._set_status()
        if not self._left and not self.status_done:
            self.status_done = True
            if self._status_set is not None and not self._status_set.done():
                self._status_set.set_result(list(self.changed))
            return True  # the caller is woken before any flag turn holds the writer
        if self._successor is not None:
            self._successor._flags.extend(self._flags)
            self._flags.clear()
        elif not self._left:
            while self._flags and not self._flags[0].fingerprints:
                self._flags.popleft()  # written by a turn that was running when it was handed over
            if self._flags:
                await self._flag_turn()
        if self._left or self._flags:
            return True
        self.finished = True
        return False

    def _hand_over(self, successor: GroupStatusJob) -> None:
        """Let ``successor`` write this job's remaining flags (this job ends after its phase 1).
        Those of its groups changed so far move now, so even a job that failed loses none."""
        if self.finished:
            return
        self._successor = successor
        successor._flags.extend(self._flags)
        self._flags.clear()

    async def _read_pending(self) -> None:
        """Load what ``pending_flags`` holds (``resume_flags``), one ``_Flags`` per direction and mark."""
        await self._writer.writable()
        async with self._writer.conn.begin():
            rows: list[Any] = list((await self._writer.conn.exec_driver_sql(_RESUME_SQL)).all())
        for fingerprint, resolved, mark in rows:
            last = self._flags[-1] if self._flags else None
            if last is None or (last.mark, last.resolved) != (int(mark), bool(resolved)):
                last = _Flags([], int(mark), bool(resolved))
                self._flags.append(last)
            last.fingerprints.append(str(fingerprint))

    async def _set_status(self) -> None:
        chunk, self._left = self._left[:GROUPS_PER_TURN], self._left[GROUPS_PER_TURN:]
        await self._writer.writable()
        conn = self._writer.conn
        marks = ", ".join("?" for _ in chunk)
        started = time.perf_counter()
        async with conn.begin():
            if self._resolved:
                sql, params = _RESOLVE_SQL, (self._at, self._note, *chunk)
            else:
                sql, params = _REOPEN_SQL, tuple(chunk)
            result = await conn.exec_driver_sql(sql.format(marks=marks), params)
            changed = {row[0] for row in result.all()}
            if changed:
                mark = int((await conn.exec_driver_sql(_MARK_SQL)).scalar_one())
                ordered = [fingerprint for fingerprint in chunk if fingerprint in changed]
                self.changed.extend(ordered)
                self._flags.append(_Flags(ordered, mark, self._resolved))
                flag = 1 if self._resolved else 0
                await conn.exec_driver_sql(
                    _PENDING_SQL, [(fingerprint, flag, mark) for fingerprint in ordered]
                )
                if conn.dialect.name == "postgresql":  # other servers' viewers reload these groups
                    from sidelog.store.pg_triage import announce_groups

                    await announce_groups(conn, getattr(self._writer, "instance", ""), ordered)
        elapsed = time.perf_counter() - started
        self.status_turns.append(elapsed)
        self.turns.append(elapsed)

    async def _flag_turn(self) -> None:
        flags = self._flags[0]
        chunk = flags.fingerprints[: self._flag_groups]
        await self._writer.writable()
        conn = self._writer.conn
        new, old = (1, 0) if flags.resolved else (0, 1)
        status = "resolved" if flags.resolved else "unresolved"
        started = time.perf_counter()
        marks = ", ".join("?" for _ in chunk)
        async with conn.begin():
            result = await conn.exec_driver_sql(
                _FLAG_SQL.format(marks=marks), (new, old, flags.mark, *chunk, status)
            )
            await conn.exec_driver_sql(_DONE_SQL.format(marks=marks), (new, flags.mark, *chunk))
        elapsed = time.perf_counter() - started
        self.turns.append(elapsed)
        self.flagged += max(result.rowcount, 0)
        # Trimmed once written (a turn that fails is written again by whoever runs the rest);
        # ``flags`` may have been handed over meanwhile: emptied, it is dropped where it is.
        del flags.fingerprints[: len(chunk)]
        if not flags.fingerprints and self._flags and self._flags[0] is flags:
            self._flags.popleft()
        ratio = min(2.0, max(0.5, FLAG_TURN_S / max(elapsed, 1e-4)))
        self._flag_groups = int(min(_MAX_FLAG_GROUPS, max(_MIN_FLAG_GROUPS, self._flag_groups * ratio)))


async def flags_pending(reader: StoreReader) -> bool:
    """Whether an earlier run left flags to write (a read, so a start with none costs no writer turn)."""
    return bool(await reader._all("SELECT 1 FROM pending_flags LIMIT 1"))


def resume_flags(writer: JobWriter) -> GroupStatusJob:
    """A job that writes the flags an earlier run left in ``pending_flags`` (none: it ends
    after one read). Its first turn reads them; the rest are phase-2 turns as usual."""
    job = GroupStatusJob(writer, (), resolved=True, at=0)
    job._resuming = True
    return job
