"""Other servers' events, live: LISTEN/NOTIFY on a shared PostgreSQL store.

A server publishes its own committed batches to its subscribers (the UI, ``tail``,
``/v1/stream``) straight from the writer; events that other servers write into the
same database reach it here. Every PostgreSQL writer announces each committed batch on
``CHANNEL`` (inside the batch's transaction, so the notice is delivered only if it
commits) as its instance name and the id runs it inserted (``"a1b2 17-516,601-700"``).
``Follower`` listens on a connection of its own, skips its own writer's notices, reads
the announced rows through the reader (ids from concurrent servers interleave, so
exact runs, not "everything above the last id") and hands them on in commit order.

Not covered yet: notices sent while the listening connection was down are not
recovered (it reconnects with a growing delay and goes on from there).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.reader import StoreReader

CHANNEL = "sidelog_events"
"""The notification channel every PostgreSQL writer announces its batches on."""
MAX_PAYLOAD = 7_900
"""PostgreSQL refuses notification payloads of 8,000 bytes and more."""
MAX_PENDING = 10_000
"""Notices held while the reader catches up; past it, the oldest are dropped (and logged)."""
_RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)


def notices(instance: str, ids: list[int]) -> list[str]:
    """The payloads announcing ``ids`` (ascending) for writer ``instance``: runs of
    consecutive ids, split so that no payload passes ``MAX_PAYLOAD``."""
    runs: list[str] = []
    start = previous = ids[0]
    for value in ids[1:]:
        if value != previous + 1:
            runs.append(f"{start}-{previous}")
            start = value
        previous = value
    runs.append(f"{start}-{previous}")
    payloads: list[str] = []
    current: list[str] = []
    size = len(instance) + 1
    for run in runs:
        if current and size + len(run) + 1 > MAX_PAYLOAD:
            payloads.append(f"{instance} {','.join(current)}")
            current, size = [], len(instance) + 1
        current.append(run)
        size += len(run) + 1
    payloads.append(f"{instance} {','.join(current)}")
    return payloads


def parse_notice(payload: str) -> tuple[str, list[tuple[int, int]]]:
    """``(instance, [(first, last), …])`` from a payload ``notices`` made."""
    instance, _, text = payload.partition(" ")
    runs: list[tuple[int, int]] = []
    for run in text.split(","):
        first, _, last = run.partition("-")
        runs.append((int(first), int(last)))
    return instance, runs


async def read_runs(reader: StoreReader, runs: list[tuple[int, int]]) -> list[Event]:
    """The stored events with ids in ``runs`` (rows deleted since are skipped), ascending."""
    found: list[Event] = []
    for first, last in runs:
        page = await reader.events(EventFilter(), limit=last - first + 1, after=first - 1)
        found.extend(event for event in page if event.id is not None and event.id <= last)
    return found


class Follower:
    """Listens for other writers' batch notices and publishes their events.

    ``listen`` connects and starts listening before the store is handed out (a batch
    committed after ``open_store`` returns is never missed); ``run`` reads and
    publishes for as long as the engine runs, reconnecting after a failure.
    """

    def __init__(self, url: URL, instance: str, reader: StoreReader, log: logging.Logger) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._instance = instance
        self._reader = reader
        self._log = log
        self._pending: asyncio.Queue[str] = asyncio.Queue()
        self._conn: Any = None

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._pending.qsize() >= MAX_PENDING:
            self._pending.get_nowait()
            self._log.warning("live events from other servers are arriving faster than they can be read")
        self._pending.put_nowait(payload)

    async def listen(self) -> None:
        """Connect and LISTEN (raises what the connection raises)."""
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        try:
            await conn.add_listener(CHANNEL, self._heard)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn

    async def run(self, publish: Callable[[list[Event]], None]) -> None:
        """Run forever: publish every batch other writers commit, in commit order."""
        failures = 0
        try:
            while True:
                try:
                    if self._conn is None or self._conn.is_closed():
                        await self.listen()
                    failures = 0
                    while True:
                        source, runs = parse_notice(await self._pending.get())
                        if source != self._instance:
                            events = await read_runs(self._reader, runs)
                            if events:
                                publish(events)
                except Exception as exc:  # the server went away, or a notice that is not ours
                    delay = _RETRY_S[min(failures, len(_RETRY_S) - 1)]
                    failures += 1
                    self._log.warning(
                        "not following other servers' events (retrying in %.1f s): %s", delay, exc
                    )
                    self.close()
                    await asyncio.sleep(delay)
        finally:
            self.close()

    def close(self) -> None:
        """Drop the listening connection (``run`` reconnects if it is still running)."""
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None
