"""Benchmark fixtures: pre-filled stores (sidelog's schema and a naive one) and event rows.

Building a million-event store takes about a minute, so it is cached by size and
schema version; every run works on copies. The sidelog copy records its schema version
(``user_version``), so a server opening it finds a current file, with nothing to upgrade.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex

from sidelog.events import parse_event
from sidelog.store.migrations import SCHEMA_VERSION
from sidelog.store.models import event_to_row
from sidelog.store.schema import EVENT_COLUMN_NAMES, INSERT_EVENTS_SQL, events, metadata
from sidelog.workload import Workload

NAIVE_INDEXES = (
    ("by_user", "user_id"),
    ("by_category", "category"),
    ("by_type", "level"),
    ("by_timestamp", "timestamp"),
    ("by_source", "source"),
    ("by_user_unresolved", "user_id, resolved"),
)
"""The six access paths (user, category, level, timestamp, source, unresolved by user), one index each."""

_NAIVE_TABLE = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, event_uid TEXT, category TEXT NOT NULL, "
    "level TEXT NOT NULL, message TEXT NOT NULL, details TEXT, user_id TEXT, session_id TEXT, "
    "url TEXT, user_agent TEXT, timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, "
    "source TEXT NOT NULL, show_to_user INTEGER, user_message TEXT, resolved INTEGER, fingerprint TEXT, "
    "trace_id TEXT)"
)


def bench_rows(count: int, first_id: int, seed: int = 11) -> tuple[list[tuple[Any, ...]], list[bytes]]:
    """``count`` events of the mix as wire lines and as the rows sidelog would store."""
    workload = Workload(seed=seed)
    now = int(time.time() * 1000)
    rows: list[tuple[Any, ...]] = []
    lines: list[bytes] = []
    for index in range(count):
        line = orjson.dumps(workload.event(now))
        event = parse_event(orjson.loads(line), default_source="server", received_at=now)
        rows.append(event_to_row(event, first_id + index))
        lines.append(line)
    return rows, lines


def _prefill_rows(count: int, chunk: int = 50_000) -> Any:
    """Rows of the mix with timestamps spread over the last days, ids 1..count."""
    workload = Workload(seed=5)
    now = int(time.time() * 1000)
    for start in range(0, count, chunk):
        rows = []
        for index in range(start, min(start + chunk, count)):
            stamp = now - (count - index) * 500  # one event every 0.5 s, oldest first
            event = parse_event(workload.event(stamp), default_source="server", received_at=stamp)
            rows.append(event_to_row(event, index + 1))
        yield rows


def prefill_paths(cache: Path, count: int) -> tuple[Path, Path]:
    """Where the cached stores of ``count`` events live (sidelog schema, naive schema)."""
    folder = cache / f"prefill-{count}-v{SCHEMA_VERSION}"
    return folder / "sidelog.db", folder / "naive.db"


def ensure_prefill(cache: Path, count: int, log: Callable[[str], None]) -> tuple[Path, Path]:
    """Paths of cached pre-filled stores (sidelog schema, naive schema), built if missing."""
    sidelog_db, naive_db = prefill_paths(cache, count)
    folder = sidelog_db.parent
    if sidelog_db.exists() and naive_db.exists():
        return sidelog_db, naive_db
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = folder / f"sidelog.db.partial-{os.getpid()}"  # concurrent builders never share a file
    partial.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{partial}")
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t is not events])
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE events ({_sidelog_columns(conn)})")
    engine.dispose()
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    done = 0
    for rows in _prefill_rows(count):
        db.execute("BEGIN")
        db.executemany(INSERT_EVENTS_SQL, rows)
        db.execute("COMMIT")
        done += len(rows)
        log(f"  prefill {done:,}/{count:,}")
    log("  building indexes")
    engine = create_engine(f"sqlite:///{partial}")
    with engine.begin() as conn:
        for index in events.indexes:
            conn.execute(CreateIndex(index))
    engine.dispose()
    db.execute(
        "INSERT INTO error_groups (fingerprint, category, message, count, first_seen, last_seen, "
        "last_event_id, status, regressed) SELECT fingerprint, min(category), max(message), count(*), "
        "min(received_at), max(received_at), max(id), 'unresolved', 0 FROM events "
        "WHERE fingerprint IS NOT NULL GROUP BY fingerprint"
    )
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    log("  building the naive copy")
    naive_partial = folder / f"naive.db.partial-{os.getpid()}"
    naive_partial.unlink(missing_ok=True)
    naive = sqlite3.connect(naive_partial, isolation_level=None)
    naive.execute("PRAGMA journal_mode=WAL")
    naive.execute("PRAGMA synchronous=OFF")
    naive.execute(_NAIVE_TABLE)
    naive.execute(f"ATTACH DATABASE '{partial}' AS src")
    columns = ", ".join(EVENT_COLUMN_NAMES)
    naive.execute(f"INSERT INTO events ({columns}) SELECT {columns} FROM src.events")
    naive.execute("DETACH DATABASE src")
    for name, columns in NAIVE_INDEXES:
        naive.execute(f"CREATE INDEX {name} ON events ({columns})")
    naive.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    naive.close()
    partial.rename(sidelog_db)
    naive_partial.rename(naive_db)
    log(f"  prefill built in {time.perf_counter() - started:.0f} s")
    return sidelog_db, naive_db


def _sidelog_columns(conn: Any) -> str:
    from sqlalchemy.schema import CreateTable

    ddl = str(CreateTable(events).compile(conn))
    return ddl[ddl.index("(") + 1 : ddl.rindex(")")]


def group_prefill_path(cache: Path, count: int, groups: int) -> Path:
    """Where the cached store of ``count`` events in ``groups`` error groups lives."""
    return prefill_paths(cache, count)[0].parent / f"groups-{groups}.db"


def _group_word(index: int) -> str:
    """A letters-only name for group ``index`` (``hg``, ``hh``, …): digits in a message
    would be folded away by its shape, so every group keeps a message of its own."""
    letters = "ghjkmnpqrstvwxyz"  # no a-f, so no name looks like a hex id
    word = ""
    index += len(letters)
    while index:
        index, digit = divmod(index, len(letters))
        word = letters[digit] + word
    return word


def ensure_group_prefill(cache: Path, count: int, groups: int, log: Callable[[str], None]) -> Path:
    """A copy of the ``count``-event prefill whose error events fall into ``groups`` groups.

    The mix's own errors form a few hundred groups; the errors pane is measured over
    thousands. Every error event is given to one of ``groups`` groups in turn (so each
    group's events spread over the whole history, as a recurring error's do), takes that
    group's message with the group's name appended (so rows differ, as real groups'
    do) and a fingerprint of the same 16-hex form as ``fingerprint_of``'s; then
    ``error_groups`` is rebuilt from the events as the base prefill builds it. Cached
    beside the prefill.
    """
    target = group_prefill_path(cache, count, groups)
    if target.exists():
        return target
    base, _naive = ensure_prefill(cache, count, log)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    log(f"  copying the prefill for {groups:,} error groups")
    db = sqlite3.connect(base, isolation_level=None)
    copy = sqlite3.connect(partial, isolation_level=None)
    db.backup(copy)
    db.close()
    copy.execute("PRAGMA journal_mode=WAL")
    copy.execute("PRAGMA synchronous=OFF")
    rows = copy.execute(
        "SELECT id, category, message FROM events WHERE fingerprint IS NOT NULL ORDER BY id"
    ).fetchall()
    names: dict[int, tuple[str, str, str]] = {}
    updates = []
    for index, (event_id, category, message) in enumerate(rows):
        slot = index % max(1, groups)
        if slot not in names:
            digest = hashlib.sha256(f"bench group {slot}".encode()).hexdigest()[:16]
            names[slot] = (category, f"{message} in {_group_word(slot)}", digest)
        updates.append((*names[slot], event_id))
    copy.execute("BEGIN")
    copy.executemany("UPDATE events SET category = ?, message = ?, fingerprint = ? WHERE id = ?", updates)
    copy.execute("DELETE FROM error_groups")
    copy.execute(
        "INSERT INTO error_groups (fingerprint, category, message, count, first_seen, last_seen, "
        "last_event_id, status, regressed) SELECT fingerprint, min(category), max(message), count(*), "
        "min(received_at), max(received_at), max(id), 'unresolved', 0 FROM events "
        "WHERE fingerprint IS NOT NULL GROUP BY fingerprint"
    )
    copy.execute("COMMIT")
    copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy.close()
    partial.rename(target)
    log(f"  {len(names):,} error groups over {len(rows):,} error events")
    return target
