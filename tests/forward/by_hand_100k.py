"""Run by hand: forward 100,000 events to an OTLP receiver that is down for 10 s in the middle.

``.venv/bin/python -m tests.forward.by_hand_100k [EVENTS] [DOWN_S]`` prints whether every
event arrived exactly once and in order per source, and how long it took. Not collected
by pytest (too long for the suite; tests/forward/test_forward_e2e.py runs it small).
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from sidelog.config import load_settings
from sidelog.forward.forwarder import Forwarder
from sidelog.server import start_server
from tests.forward.conftest import OtlpReceiver, send_events
from tests.support.wait import until

SOURCES = ("web", "api", "worker")


async def main(total: int, down_s: float) -> int:
    receiver = OtlpReceiver()
    await receiver.start()
    folder = Path(tempfile.mkdtemp(prefix="sidelog-forward-"))
    settings = load_settings(
        db=folder / "events.db", tcp="127.0.0.1:0", http="off", rate_limit_burst=0, forward=[receiver.url]
    )
    running = await start_server(settings)
    forwarder = running.engine.forwarders[0]
    assert isinstance(forwarder, Forwarder)
    started = time.monotonic()
    outage: list[float] = []

    async def outage_in_the_middle() -> None:
        await until(lambda: len(receiver.records) >= total // 3, timeout=600)
        await receiver.stop()
        outage.append(time.monotonic() - started)
        await asyncio.sleep(down_s)  # ingest goes on meanwhile
        await receiver.start()
        outage.append(time.monotonic() - started)

    down = asyncio.create_task(outage_in_the_middle())
    for first in range(0, total, 5000):
        chunk = range(first, min(first + 5000, total))
        await send_events(running.engine, [(SOURCES[i % 3], f"#{i}") for i in chunk])
    ingest_done = time.monotonic() - started
    await down
    await until(lambda: forwarder.cursor >= _newest(settings.db), timeout=600, poll=0.05)
    done = time.monotonic() - started
    status = forwarder.status(_newest(settings.db))
    await running.stop()
    await receiver.stop()
    with sqlite3.connect(settings.db) as db:  # without what was stored after the last delivery
        stored = [
            row[0]
            for row in db.execute("SELECT id FROM events WHERE id <= ? ORDER BY id", (forwarder.cursor,))
        ]
    received = receiver.ids()
    ordered = all(
        [r.sidelog_id for r in receiver.records if r.service == s]
        == sorted(r.sidelog_id for r in receiver.records if r.service == s)
        for s in SOURCES
    )
    app_events = sum(1 for r in receiver.records if r.message.startswith("#"))
    print(f"forwarded ids 1..{stored[-1]}: {total} sent + {len(stored) - total} system events")
    print(f"received {len(received)} records, {len(set(received))} distinct, app events {app_events}")
    print(f"exactly once: {sorted(received) == stored}; in order per source: {ordered}")
    print(f"receiver down from {outage[0]:.1f}s to {outage[1]:.1f}s")
    print(f"ingest finished at {ingest_done:.1f}s, forwarding caught up at {done:.1f}s")
    print(f"requests {status['requests']}, failed attempts {status['failures']}")
    print(f"largest batch {receiver.largest_batch}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (server, receiver and sender in one process)")
    return 0 if sorted(received) == stored and ordered else 1


def _newest(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return int(db.execute("SELECT max(id) FROM events").fetchone()[0])


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(
        asyncio.run(
            main(
                int(arguments[0]) if arguments else 100_000, float(arguments[1]) if len(arguments) > 1 else 10
            )
        )
    )
