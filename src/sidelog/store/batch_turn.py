"""A batch of events written in one turn on the write connection's own thread.

The writer's connection lives on the driver's thread (aiosqlite); each statement sent
through SQLAlchemy is a trip there and back, and each trip back waits for the event
loop, which under a flood is busy decoding the next events for milliseconds at a
time. A batch took six such trips (begin, the highest id, the inserts, the groups,
commit), and the writer stood idle between them. So the common batch, one whose
events are new and hold no user report (``StoreWriter.write_batch`` decides), is
written by ``write_in_one_turn`` in a single trip: a 100,000-event flood into a million
stored events went from 18,700 to 23,500 events per second (``python -m
sidelog.bench.gc_ingest --store``, best of three each, alternating).

``rows_and_groups`` and ``chunked`` are the rows both ways of writing build.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sidelog.events import Event
from sidelog.store.models import count_into_group, event_to_row
from sidelog.store.schema import (
    INSERT_EVENTS_MULTI_SQL,
    INSERT_EVENTS_SQL,
    MULTI_ROW_INSERT,
    UPSERT_GROUP_SQL,
)

Rows = list[tuple[Any, ...]]


def rows_and_groups(events: list[Event], first_id: int) -> tuple[Rows, dict[str, list[Any]], int]:
    """The insert rows of ``events`` stored from ``first_id`` on, their errors' group
    upserts (``UPSERT_GROUP_SQL``'s rows), and the last id used."""
    rows: Rows = []
    groups: dict[str, list[Any]] = {}
    next_id = first_id - 1
    for event in events:
        next_id += 1
        rows.append(event_to_row(event, next_id))
        if event.fingerprint is not None:
            count_into_group(groups, event, next_id)
    return rows, groups, next_id


def chunked(rows: Rows) -> tuple[list[tuple[Any, ...]], Rows]:
    """Whole chunks of ``MULTI_ROW_INSERT`` rows as the parameters of one multi-row
    statement each (``INSERT_EVENTS_MULTI_SQL``), and the rows left over."""
    full = len(rows) - len(rows) % MULTI_ROW_INSERT
    chunks = [
        tuple([value for row in rows[start : start + MULTI_ROW_INSERT] for value in row])
        for start in range(0, full, MULTI_ROW_INSERT)
    ]
    return chunks, rows[full:]


def write_in_one_turn(db: sqlite3.Connection, events: list[Event], last_id: int) -> tuple[int, int] | None:
    """Insert ``events`` and count their errors into groups in one ``BEGIN IMMEDIATE``
    transaction on ``db`` (the writer's own connection, on its thread); ``(first id,
    last id)``. ``None`` when an idempotency key proves to be stored already: nothing is
    written then, and the caller takes the path that sets such events aside. Any other
    error rolls the transaction back and is raised.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        (top,) = db.execute("SELECT max(id) FROM events").fetchone()
        first_id = max(last_id, int(top or 0)) + 1  # under the write lock, as StoreWriter does
        rows, groups, next_id = rows_and_groups(events, first_id)
        chunks, rest = chunked(rows)
        if chunks:
            db.executemany(INSERT_EVENTS_MULTI_SQL, chunks)
        if rest:
            db.executemany(INSERT_EVENTS_SQL, rest)
        if groups:
            db.executemany(UPSERT_GROUP_SQL, [tuple(group) for group in groups.values()])
        db.execute("COMMIT")
    except sqlite3.IntegrityError as exc:
        db.execute("ROLLBACK")
        if "event_uid" in str(exc):
            return None
        raise
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return first_id, next_id


__all__ = ["chunked", "rows_and_groups", "write_in_one_turn"]
