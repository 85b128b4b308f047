"""Idempotency keys in the writer: duplicates found by the unique index, counted, never stored.

A batch is inserted as it is; only when the index refuses a key is the attempt
undone and the batch written again without the known keys. These tests pin what
that must keep: the duplicates reported, ids without gaps, error groups counting
stored events only, and feedback links made once.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from sidelog.events import Event, now_ms
from tests.store.support import open_writer, rows


def keyed(message: str, uid: str | None, *, error: bool = False, session: str | None = None) -> Event:
    now = now_ms()
    return Event(
        message=message,
        category="feedback" if message.startswith("report") else "app",
        level="error" if error else "info",
        timestamp=now,
        received_at=now,
        uid=uid,
        fingerprint="fp-boom" if error else None,
        resolved=False if error else None,
        session_id=session,
    )


async def test_a_batch_with_known_and_repeated_keys_stores_the_rest_once(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_writer(db) as writer:
        first = await writer.write_batch(
            [keyed("a", "k-a"), keyed("boom 1", "k-e1", error=True), keyed("no key", None)]
        )
        assert [event.id for event in first.stored] == [1, 2, 3]
        assert first.duplicates == []

        again = [
            keyed("b", "k-b"),
            keyed("a again", "k-a"),  # stored by the first batch
            keyed("boom 1 again", "k-e1", error=True),  # a duplicate error: not counted
            keyed("boom 2", "k-e2", error=True),
            keyed("b repeated", "k-b"),  # repeated inside the batch
            keyed("free", None),
        ]
        second = await writer.write_batch(again)
        assert [event.message for event in second.stored] == ["b", "boom 2", "free"]
        assert [event.id for event in second.stored] == [4, 5, 6]  # no gap left by the undone attempt
        assert [event.message for event in second.duplicates] == ["a again", "boom 1 again", "b repeated"]
        assert all(event.id is None for event in second.duplicates)

        third = await writer.write_batch([keyed("c", "k-c")])
        assert [event.id for event in third.stored] == [7]
    assert rows(db, "SELECT id, message, event_uid FROM events ORDER BY id") == [
        (1, "a", "k-a"),
        (2, "boom 1", "k-e1"),
        (3, "no key", None),
        (4, "b", "k-b"),
        (5, "boom 2", "k-e2"),
        (6, "free", None),
        (7, "c", "k-c"),
    ]
    assert rows(db, "SELECT count, last_event_id, message FROM error_groups") == [(2, 5, "boom 2")]


async def test_a_batch_of_nothing_but_known_keys_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_writer(db) as writer:
        batch = [keyed(f"line {i}", f"k-{i:04d}", error=i % 3 == 0) for i in range(1200)]
        assert len((await writer.write_batch(batch)).stored) == 1200
        replay = [keyed(f"line {i}", f"k-{i:04d}", error=i % 3 == 0) for i in range(1200)]
        result = await writer.write_batch(replay)
        assert (len(result.stored), len(result.duplicates)) == (0, 1200)
        after = await writer.write_batch([keyed("next", "k-next")])
        assert [event.id for event in after.stored] == [1201]
    assert rows(db, "SELECT count(*), max(id) FROM events") == [(1201, 1201)]
    assert rows(db, "SELECT count FROM error_groups") == [(400,)]


async def test_a_report_beside_a_duplicate_is_linked_once(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_writer(db) as writer:
        await writer.write_batch([keyed("boom", "k-boom", error=True, session="s1")])
        result = await writer.write_batch(
            [
                keyed("boom", "k-boom", error=True, session="s1"),  # already stored
                keyed("report: pay does nothing", "k-report", session="s1"),
            ]
        )
        assert [event.message for event in result.stored] == ["report: pay does nothing"]
    (details,) = rows(db, "SELECT details FROM events WHERE event_uid = 'k-report'")[0]
    assert orjson.loads(details) == {"related_groups": ["fp-boom"]}
    assert rows(db, "SELECT count FROM error_groups") == [(1,)]
