"""Other servers' events and triage, live: LISTEN/NOTIFY on a shared PostgreSQL store.

A server publishes its own committed batches to its subscribers (the UI, ``tail``,
``/v1/stream``) straight from the writer; events that other servers write into the
same database reach it here. Every PostgreSQL writer announces each committed batch on
``CHANNEL`` (inside the batch's transaction, so the notice is delivered only if it
commits) as its instance name and the id runs it inserted (``"a1b2 17-516,601-700"``).
``Follower`` listens on a connection of its own, skips its own writer's notices, reads
the announced rows through the reader (ids from concurrent servers interleave, so
exact runs, not "everything above the last id") and hands them on in commit order.
Triage changes arrive on store/pg_triage.py's channel and become a "groups changed"
signal, which makes the errors pane reload.

Notices are not queued for a listener that is not connected, so the follower does not
rely on them alone. It remembers the ids it has published and the ids its own writer
committed (``own``), for the last ``WINDOW`` ids. After its connection comes back it
listens again first, then **catches up by id**: it reads every row above
``mark - WINDOW`` (``mark`` the highest id it knew) and publishes those it has not seen
(a batch that took a lower id but committed later is within the window), and signals
"groups changed" once for triage it may have missed. The same catch-up runs when
notices overflowed ``MAX_PENDING``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.pg_triage import GROUPS_CHANNEL, parse_groups
from sidelog.store.reader import StoreReader

CHANNEL = "sidelog_events"
"""The notification channel every PostgreSQL writer announces its batches on."""
MAX_PAYLOAD = 7_900
"""PostgreSQL refuses notification payloads of 8,000 bytes and more."""
MAX_PENDING = 10_000
"""Notices held while the reader catches up; past it, the oldest are dropped (and logged)."""
WINDOW = 20_000
"""How far below the highest known id a catch-up looks (batches that committed late)."""
CATCH_UP_PAGE = 1_000
"""Rows read at a time while catching up."""
_RETRY_S = (0.1, 0.5, 1.0, 2.0, 5.0)


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
    """Listens for other writers' batch and triage notices and publishes them.

    ``listen`` connects and starts listening before the store is handed out (a batch
    committed after ``open_store`` returns is never missed); ``run`` reads and
    publishes for as long as the engine runs, reconnecting and catching up by id
    after a failure (see the module docstring).
    """

    def __init__(
        self,
        url: URL,
        instance: str,
        reader: StoreReader,
        log: logging.Logger,
        *,
        mark: int = 0,
        retry_s: tuple[float, ...] = _RETRY_S,
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._instance = instance
        self._reader = reader
        self._log = log
        self._retry_s = retry_s
        self._pending: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._conn: Any = None
        self._seen = _SeenIds(mark)
        self._behind = False
        """Notices were dropped or the connection was lost: catch up by id."""
        self.reconnects = 0
        """Times the listening connection was made again after a failure."""

    def own(self, ids: list[int]) -> None:
        """Ids this server's writer committed (published by it, never again here)."""
        self._seen.add(ids)

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        if self._pending.qsize() >= MAX_PENDING:
            self._pending.get_nowait()
            self._behind = True
            self._log.warning("live events from other servers are arriving faster than they can be read")
        self._pending.put_nowait((channel, payload))

    def _lost(self, conn: Any) -> None:
        """The listening connection closed under us: wake ``run`` to reconnect."""
        self._pending.put_nowait(("", ""))

    async def listen(self) -> None:
        """Connect and LISTEN on both channels (raises what the connection raises)."""
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        try:
            await conn.add_listener(CHANNEL, self._heard)
            await conn.add_listener(GROUPS_CHANNEL, self._heard)
            conn.add_termination_listener(self._lost)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn

    async def run(self, publish: Callable[[list[Event]], None], groups_changed: Callable[[], None]) -> None:
        """Run forever: publish every batch other writers commit, in commit order, and
        signal every triage change they announce."""
        failures = 0
        try:
            while True:
                try:
                    if self._conn is None or self._conn.is_closed():
                        await self.listen()
                        self.reconnects += 1
                        self._behind = True
                    failures = 0
                    await self._follow(publish, groups_changed)
                except Exception as exc:  # the server went away, or a notice that is not ours
                    delay = self._retry_s[min(failures, len(self._retry_s) - 1)]
                    failures += 1
                    self._log.warning(
                        "not following other servers' events (retrying in %.1f s): %s", delay, exc
                    )
                    self.close()
                    await asyncio.sleep(delay)
        finally:
            self.close()

    async def _follow(
        self, publish: Callable[[list[Event]], None], groups_changed: Callable[[], None]
    ) -> None:
        """Publish notices as they come, catching up by id first when behind."""
        while True:
            if self._behind:
                self._behind = False
                await self.catch_up(publish)
                groups_changed()
            channel, payload = await self._pending.get()
            if not channel:
                if self._conn is None or self._conn.is_closed():
                    raise ConnectionError("the listening connection closed")
                continue
            if channel == GROUPS_CHANNEL:
                if parse_groups(payload)[0] != self._instance:
                    groups_changed()
                continue
            source, runs = parse_notice(payload)
            if source == self._instance:
                continue
            events = [event for event in await read_runs(self._reader, runs) if self._seen.fresh(event)]
            if events:
                publish(events)

    async def catch_up(self, publish: Callable[[list[Event]], None]) -> int:
        """Publish unseen rows above ``mark - WINDOW``, a page at a time; how many."""
        after = max(0, self._seen.mark - WINDOW)
        published = 0
        while True:
            page = await self._reader.events(EventFilter(), limit=CATCH_UP_PAGE, after=after)
            fresh = [event for event in page if self._seen.fresh(event)]
            if fresh:
                publish(fresh)
                published += len(fresh)
            if len(page) < CATCH_UP_PAGE:
                return published
            after = page[-1].id or after

    def close(self) -> None:
        """Drop the listening connection (``run`` reconnects if it is still running)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.remove_termination_listener(self._lost)
            conn.terminate()
            self._pending.put_nowait(("", ""))  # wake ``run`` to reconnect


class _SeenIds:
    """Ids published or written here within ``WINDOW`` of the highest (``mark``)."""

    def __init__(self, mark: int) -> None:
        self.mark = mark
        self._floor = mark
        """Ids up to here were stored before this server started: never published."""
        self._ids: set[int] = set()

    def add(self, ids: list[int]) -> None:
        self._ids.update(ids)
        self._advance(max(ids, default=0))

    def fresh(self, event: Event) -> bool:
        """True the first time ``event`` (by id) is offered above the window: publish it."""
        if event.id is None or event.id in self._ids or event.id <= max(self._floor, self.mark - WINDOW):
            return False
        self._ids.add(event.id)
        self._advance(event.id)
        return True

    def _advance(self, top: int) -> None:
        self.mark = max(self.mark, top)
        if len(self._ids) > 2 * WINDOW:
            floor = self.mark - WINDOW
            self._ids = {value for value in self._ids if value > floor}
