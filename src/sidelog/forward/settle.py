"""How far the forwarder may read on a PostgreSQL store shared by several writers.

On SQLite one writer assigns ids in commit order, so "everything above the cursor" never
skips a row. On a shared PostgreSQL, ids come from an identity sequence when each row is
inserted, and transactions commit in any order: server A may take ids 101-200 and
commit after server B committed 201-300. A forwarder reading then would send 201-300,
move its cursor to 300, and never send 101-200.

So the forwarder reads only up to a **settled ceiling**, found in two steps:

1. In one statement (one snapshot ``S``): ``top``, the highest id visible, and ``X``,
   ``pg_snapshot_xmax(S)``, the first transaction id not yet assigned when ``S`` was
   taken.
2. Wait until ``pg_snapshot_xmin`` of a fresh snapshot is at least ``X``: every
   transaction that was running at ``S`` has ended (committed or rolled back).

Every id at or below ``top`` is then final. A row with such an id took it from the
sequence before ``top``'s row did (the sequence only grows; identity columns are not
cached per session), so before ``S``; its transaction already had its transaction id
then, because each PostgreSQL writer takes one at the start of every batch, before it
draws any id (``SharedPgWriter`` in store/pg_outage.py); so that transaction was either
visible in ``S`` or running at ``S`` and now ended. Ids drawn after ``S`` are all above
``top`` and wait for a later ceiling.

The wait is usually a millisecond (one batch transaction). Transaction ids are shared
by the whole database cluster, so a long transaction anywhere in it delays forwarding
(never ingest) until it ends; the forwarder's state is ``settling`` meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sidelog.store.reader import StoreReader

POLL_S = 0.01
"""How often the horizon is read again while transactions are still running."""


async def settled_ceiling(
    reader: StoreReader, pause: Callable[[float], Awaitable[bool]], *, poll_s: float = POLL_S
) -> int | None:
    """The highest id up to which every row is committed (0: none yet); ``None`` when
    ``pause`` says the caller is closing."""
    row = (
        await reader._all(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text, (SELECT coalesce(max(id), 0) FROM events)"
        )
    )[0]
    horizon, top = str(row[0]), int(row[1])
    while True:
        passed = await reader._all(
            "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= CAST(? AS xid8)", (int(horizon),)
        )
        if passed[0][0]:
            return top
        if await pause(poll_s):
            return None


def shared_store(reader: StoreReader) -> bool:
    """Whether ids may commit out of order (a PostgreSQL store)."""
    return reader._engine.dialect.name == "postgresql"


__all__ = ["POLL_S", "settled_ceiling", "shared_store"]
