"""The UI benchmark's fixtures: a large stored history (built fast, cached) and a load sender.

Going through the engine would measure ingest, not the UI, and take minutes per
million events; instead the schema is created by opening an ``Engine`` once (so it is
exactly sidelog's), and the SPEC 11 workload rows go in with ``sqlite3.executemany``.
The build runs in a child process so its memory never counts towards the UI's peak RSS;
so does the TCP sender (``send_events``), which must not share the UI's core.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

from sidelog.config import Settings, load_settings
from sidelog.events import Event, parse_event
from sidelog.store.schema import INSERT_EVENTS_SQL, UPSERT_GROUP_SQL
from sidelog.workload import Workload

_CHUNK = 50_000
_SPACING_MS = 5
"""Prefilled events are this far apart, ending at build time (1M events span ~1.4 h)."""


def bench_settings(db: Path, *, tcp: str = "off") -> Settings:
    """Settings for benchmark engines: no retention, no size budget, no rate limits."""
    return load_settings(db=db, tcp=tcp, http="off", retention_days=0, db_budget_mb=0, rate_limit_burst=0)


def prefill_path(folder: Path, count: int) -> Path:
    """Where the cached prefill of ``count`` events lives in ``folder``."""
    return folder / f"ui-prefill-{count}.db"


def ensure_prefill(folder: Path, count: int) -> tuple[Path, float]:
    """The cached prefill database (built if missing) and seconds spent building (0 if cached)."""
    path = prefill_path(folder, count)
    if path.exists():
        return path, 0.0
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(
        target=build_prefill, args=(str(path), count), name="sidelog-bench-prefill"
    )
    process.start()
    process.join()
    if process.exitcode != 0 or not path.exists():
        raise RuntimeError(f"building the prefill database failed (exit {process.exitcode})")
    return path, time.perf_counter() - started


def build_prefill(path_text: str, count: int) -> None:
    """Write ``count`` workload events into a new database at ``path_text`` (atomically)."""
    path = Path(path_text)
    building = path.with_name(path.name + ".building")
    for stale in (building, building.with_name(building.name + "-wal")):
        stale.unlink(missing_ok=True)
    asyncio.run(_create_schema(building))
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    workload = Workload(seed=11)
    start_ms = int(time.time() * 1000) - count * _SPACING_MS
    groups: dict[str, list[object]] = {}
    next_id = 1
    while next_id <= count:
        rows = []
        for _ in range(min(_CHUNK, count - next_id + 1)):
            stamp = start_ms + next_id * _SPACING_MS
            event = parse_event(workload.event(stamp), default_source="server", received_at=stamp)
            rows.append(_row(next_id, event))
            if event.fingerprint is not None:
                _count_group(groups, event, next_id)
            next_id += 1
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENTS_SQL, rows)
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany(UPSERT_GROUP_SQL, [tuple(group) for group in groups.values()])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    building.rename(path)
    Path(str(building) + ".lock").unlink(missing_ok=True)


async def _create_schema(db: Path) -> None:
    from sidelog.engine import Engine

    engine = Engine(bench_settings(db))
    await engine.open_store()
    await engine.stop()


def _row(row_id: int, event: Event) -> tuple[object, ...]:
    return (
        row_id,
        event.uid,
        event.category,
        event.level,
        event.message,
        event.details,
        event.user_id,
        event.session_id,
        event.url,
        event.user_agent,
        event.timestamp,
        event.received_at,
        event.source,
        None if event.show_to_user is None else int(event.show_to_user),
        event.user_message,
        None if event.resolved is None else int(event.resolved),
        event.fingerprint,
    )


def _count_group(groups: dict[str, list[object]], event: Event, row_id: int) -> None:
    # (fingerprint, category, message, count, first_seen, last_seen, last_event_id)
    fingerprint = event.fingerprint
    assert fingerprint is not None
    group = groups.get(fingerprint)
    if group is None:
        groups[fingerprint] = [
            fingerprint,
            event.category,
            event.message,
            1,
            event.timestamp,
            event.timestamp,
            row_id,
        ]
    else:
        group[2] = event.message
        group[3] = int(group[3]) + 1  # type: ignore[call-overload]
        group[5] = event.timestamp
        group[6] = row_id


def send_events(port: int, count: int, rate: float, ready: Any, go: Any, results: Any, seed: int = 3) -> None:
    """Child-process sender: pre-build ``count`` workload lines, wait for ``go``, send them.

    ``rate`` 0 sends as fast as TCP takes them (an ingest-rate run); otherwise events
    are paced at ``rate`` per second in 10 ms ticks. Puts ``{"sent", "seconds", "stored"}``
    on ``results`` once the final ``{"sync": true}`` is acknowledged (all committed).
    """
    import socket

    import orjson

    workload = Workload(seed=seed)
    lines = [orjson.dumps(workload.event()) + b"\n" for _ in range(count)]
    ready.set()
    go.wait()
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    started = time.perf_counter()
    with sock:
        if rate <= 0:
            sock.sendall(b"".join(lines))
        else:
            sent = 0
            while sent < count:
                due = min(count, int((time.perf_counter() - started) * rate) + 1)
                if due > sent:
                    sock.sendall(b"".join(lines[sent:due]))
                    sent = due
                time.sleep(0.01)
        sock.sendall(b'{"sync": true}\n')
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    seconds = time.perf_counter() - started
    acks = [orjson.loads(line) for line in reply.splitlines() if b'"ok"' in line]
    results.put({"sent": count, "seconds": seconds, "stored": acks[-1].get("stored") if acks else None})
