"""Retention on PostgreSQL: expired events deleted in short steps, errors archived first.

The SQLite pass (store/retention.py) also judges far-future stamps, keeps a file
under its size budget and hands free pages back; on PostgreSQL the database server
owns its disk (autovacuum reuses the space), so only the age pass runs. Each step is
one statement: delete the oldest expired rows, and copy the errors among them to
``events_archive`` from what the delete returned, sized like the SQLite steps.
"""

from __future__ import annotations

import time
from typing import Any

from sidelog.store.retention import JobWriter, RetentionJob
from sidelog.store.schema import EVENT_COLUMN_NAMES

_COLUMNS = ", ".join(EVENT_COLUMN_NAMES)
EXPIRE_STEP_SQL = f"""
WITH doomed AS (
    DELETE FROM events WHERE id IN (
        SELECT id FROM events WHERE received_at < $1 ORDER BY received_at, id LIMIT $2
    )
    RETURNING {_COLUMNS}
), archived AS (
    INSERT INTO events_archive ({_COLUMNS})
    SELECT {_COLUMNS} FROM doomed WHERE level = 'error'
    ON CONFLICT (id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM doomed), (SELECT count(*) FROM archived)
"""
"""One step: at most ``$2`` of the oldest events received before ``$1``."""


class PgRetentionJob(RetentionJob):
    """``RetentionJob`` with the age pass only, in PostgreSQL's SQL."""

    def __init__(self, writer: JobWriter, *, older_than: int | None, now: int | None = None) -> None:
        super().__init__(writer, older_than=older_than, budget_bytes=None, now=now)
        self._phases = [self._expire] if older_than is not None else []

    async def _expire(self) -> bool:
        conn, rows = self._writer.conn, self._rows.size
        started = time.perf_counter()
        async with conn.begin():
            row: Any = (await conn.exec_driver_sql(EXPIRE_STEP_SQL, (self._older_than, rows))).one()
        deleted, archived = int(row[0]), int(row[1])
        self._deleted += deleted
        self._archived += archived
        self._rows.update(time.perf_counter() - started)
        return deleted == rows
