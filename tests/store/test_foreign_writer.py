"""Another process writing the live file (a ``sqlite3`` shell, a script) costs nothing:
ids are taken under the write lock, so no batch fails, none is lost, ids keep
following commit order and what is published matches what is stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sidelog.events import now_ms
from tests.store.support import event, open_stack, rows, write

FOREIGN_INSERTS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=10)
top = conn.execute("SELECT max(id) FROM events").fetchone()[0]
columns = "category, level, message, timestamp, received_at, source"
values = "'cli', 'info', 'explicit id', 0, 0, 'sqlite3'"
conn.execute(f"INSERT INTO events (id, {columns}) VALUES (?, {values})", (top + 1,))
conn.execute(f"INSERT INTO events ({columns}) VALUES ('cli', 'info', 'id from sqlite', 0, 0, 'sqlite3')")
conn.commit()
conn.close()
"""


def foreign_insert(db: Path) -> None:
    """Two rows from another process: one at the id the writer would use next, one SQLite-assigned."""
    subprocess.run([sys.executable, "-c", FOREIGN_INSERTS, str(db)], check=True, timeout=60)


async def test_a_foreign_insert_loses_nothing_and_fails_nothing(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_stack(db) as stack:
        await write(stack, [event(f"before {i}", received_at=now_ms()) for i in range(10)])
        foreign_insert(db)
        origin = await write(stack, [event(f"after {i}", received_at=now_ms()) for i in range(10)])
        foreign_insert(db)
        again = await write(stack, [event(f"later {i}", received_at=now_ms()) for i in range(600)])
        assert (origin.stored, origin.failed, again.stored, again.failed) == (10, 0, 600, 0)
        assert stack.counters.write_failed == 0
        assert not stack.batcher.health.failing
        published = {e.message: e.id for batch in stack.published for e in batch.stored}
    stored = rows(db, "SELECT id, message FROM events ORDER BY id")
    assert len(stored) == 624
    # ids follow commit order: every batch after a foreign insert sits above it
    messages = [message for _, message in stored]
    assert messages[10:12] == ["explicit id", "id from sqlite"]
    assert messages[22:24] == ["explicit id", "id from sqlite"]
    # what the live feed got is what is in the file
    assert all(published[message] == id_ for id_, message in stored if message in published)
    assert len(published) == 620
