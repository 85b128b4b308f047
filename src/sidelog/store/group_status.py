"""Resolve or reopen many error groups at once, as short writer turns (``Engine.run_job``).

Resolving one group (``StoreWriter.set_group_status``, the errors pane's ``r``) is one
transaction; thousands of them one by one pay a commit and a writer turn each (about
4.5 ms a group on a busy 2-core machine: 20 s for 5,000). This job changes
``GROUPS_PER_STEP`` groups per transaction with the same two statements, so a bulk
resolve of thousands of groups takes a few turns while ingest batches go on between
them. It changes only the groups whose status differs (a group reopened by a new event
meanwhile is left as it is by an undo, and counted out of ``changed``).

Why not shorter turns: a group's events lie all over the table (an error recurs across
the whole history), so every transaction rewrites pages all over ``events`` and
``ix_events_user_unresolved``, and the smaller the transaction the more often the same
pages are written to the WAL and copied back by checkpoints. Measured over a million
events (5,000 of 10,000 groups, 40,000 events, a quiet 2-core machine, engine alone):
500 groups a turn took about 1.0 s in turns of 60-80 ms; turns sized to 35 ms took
1.3-1.5 s; groups first and then their events by ascending id, in 30 ms turns, took
1.4-1.7 s (and left a moment where a group's status and its events' flags disagree).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sidelog.store.pg_triage import announce_groups
from sidelog.store.retention import JobWriter

__all__ = ["GROUPS_PER_STEP", "GroupStatusJob"]

GROUPS_PER_STEP = 500
"""Groups per transaction (under SQLite's 32,766 parameters, and a short turn)."""


class GroupStatusJob:
    """Set ``status`` of the given groups (and their events' ``resolved`` flag)."""

    def __init__(
        self,
        writer: JobWriter,
        fingerprints: Sequence[str],
        *,
        resolved: bool,
        at: int,
        note: str | None = None,
    ) -> None:
        self._writer = writer
        self._left = list(dict.fromkeys(fingerprints))
        self._resolved = resolved
        self._at = at
        self._note = note
        self.changed: list[str] = []
        """The fingerprints whose status this job changed, in the order given."""
        self.turns: list[float] = []
        """Seconds each transaction held the writer (``sidelog bench --ui`` reports the longest)."""

    async def step(self) -> bool:
        """One transaction over the next ``GROUPS_PER_STEP`` groups; True while some remain."""
        chunk, self._left = self._left[:GROUPS_PER_STEP], self._left[GROUPS_PER_STEP:]
        if not chunk:
            return False
        await self._writer.writable()
        conn = self._writer.conn
        marks = ", ".join("?" for _ in chunk)
        started = time.perf_counter()
        async with conn.begin():
            if self._resolved:
                result = await conn.exec_driver_sql(
                    "UPDATE error_groups SET status = 'resolved', resolved_at = ?, resolve_note = ?, "
                    f"regressed = 0 WHERE status != 'resolved' AND fingerprint IN ({marks}) "
                    "RETURNING fingerprint",
                    (self._at, self._note, *chunk),
                )
            else:
                result = await conn.exec_driver_sql(
                    "UPDATE error_groups SET status = 'unresolved', resolved_at = NULL, resolve_note = NULL "
                    f"WHERE status = 'resolved' AND fingerprint IN ({marks}) RETURNING fingerprint",
                    tuple(chunk),
                )
            changed = {row[0] for row in result.all()}
            if changed:
                ordered = [fingerprint for fingerprint in chunk if fingerprint in changed]
                new, old = (1, 0) if self._resolved else (0, 1)
                await conn.exec_driver_sql(
                    f"UPDATE events SET resolved = ? WHERE resolved = ? "
                    f"AND fingerprint IN ({', '.join('?' for _ in ordered)})",
                    (new, old, *ordered),
                )
                self.changed.extend(ordered)
                await announce_groups(conn, getattr(self._writer, "instance", ""), ordered)
        self.turns.append(time.perf_counter() - started)
        return bool(self._left)
