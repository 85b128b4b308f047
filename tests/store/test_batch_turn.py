"""A batch written in one turn on the writer's thread (store/batch_turn.py): the same rows,
ids and groups as the statement-by-statement path, and all or nothing when it fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sidelog.events import Event, now_ms
from sidelog.store.schema import MULTI_ROW_INSERT
from tests.store.support import open_writer, rows


def made(message: str, *, error: bool = False, category: str = "app") -> Event:
    now = now_ms()
    return Event(
        message=message,
        category=category,
        level="error" if error else "info",
        timestamp=now,
        received_at=now,
        fingerprint=f"fp-{message.split()[0]}" if error else None,
        resolved=False if error else None,
    )


async def test_a_batch_of_several_chunks_gets_consecutive_ids_and_its_groups(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    count = 2 * MULTI_ROW_INSERT + 7  # two whole multi-row statements and a remainder
    async with open_writer(db) as writer:
        batch = [made(f"{'boom' if i % 4 == 0 else 'line'} {i}", error=i % 4 == 0) for i in range(count)]
        result = await writer.write_batch(batch)
        assert [event.id for event in result.stored] == list(range(1, count + 1))
        assert result.duplicates == []
        assert writer.last_id == count
    assert rows(db, "SELECT count(*), min(id), max(id) FROM events") == [(count, 1, count)]
    errors = (count + 3) // 4
    assert rows(db, "SELECT fingerprint, count, last_event_id FROM error_groups") == [
        ("fp-boom", errors, 4 * (errors - 1) + 1)
    ]


async def test_a_failing_batch_leaves_nothing_and_the_next_one_is_written(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_writer(db) as writer:
        await writer.write_batch([made("first")])
        with sqlite3.connect(db) as other:  # a store that refuses one message (another tool's trigger)
            other.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.message = 'refused' "
                "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
            )
        batch = [made(f"line {i}") for i in range(MULTI_ROW_INSERT + 3)] + [made("refused")]
        batch += [made("boom after", error=True)]
        with pytest.raises(sqlite3.DatabaseError, match="refused by a trigger"):
            await writer.write_batch(batch)
        assert not writer.conn.in_transaction()
        after = await writer.write_batch([made("next"), made("boom next", error=True)])
        assert [event.id for event in after.stored] == [2, 3]
    stored = rows(db, "SELECT id, message FROM events ORDER BY id")
    assert stored == [(1, "first"), (2, "next"), (3, "boom next")]
    assert rows(db, "SELECT fingerprint, count FROM error_groups") == [("fp-boom", 1)]
