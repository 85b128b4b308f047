"""The last forwarded id of each destination, kept in the store (table ``forward_cursors``).

Kept in the database rather than a file beside it, so it travels with the store
(SQLite or a server database) and is written by the one writer, between ingest
batches, like every other change. Saved after each delivered batch: a restart
resumes after the last batch the receiver accepted, so nothing is skipped, and
only a batch cut short by a crash can be sent again.
Each use is one short transaction, run through ``Engine.on_writer``, as plain SQL with
``?`` placeholders like the rest of the store (SQLAlchemy's asyncpg dialect would cast
bound integers to 32-bit ``INTEGER``, too small for millisecond times, see store/pg_sql.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sidelog.events import now_ms
from sidelog.store.async_core import AsyncConnection

if TYPE_CHECKING:
    from sidelog.engine import Engine


async def load_cursor(engine: Engine, endpoint: str) -> int | None:
    """The last id forwarded to ``endpoint``, or ``None`` for a destination never used."""

    async def read(conn: AsyncConnection) -> int | None:
        async with conn.begin():
            query = "SELECT last_id FROM forward_cursors WHERE destination = ?"
            value = (await conn.exec_driver_sql(query, (endpoint,))).scalar()
        return None if value is None else int(value)

    found: int | None = await _on_writer(engine, read)
    return found


async def save_cursor(engine: Engine, endpoint: str, last_id: int) -> None:
    """Record ``last_id`` as forwarded to ``endpoint`` (one short write transaction)."""

    async def write(conn: AsyncConnection) -> None:
        at = now_ms()
        async with conn.begin():
            changed = await conn.exec_driver_sql(
                "UPDATE forward_cursors SET last_id = ?, updated_at = ? WHERE destination = ?",
                (last_id, at, endpoint),
            )
            if changed.rowcount == 0:
                await conn.exec_driver_sql(
                    "INSERT INTO forward_cursors (destination, last_id, updated_at) VALUES (?, ?, ?)",
                    (endpoint, last_id, at),
                )

    await _on_writer(engine, write)


async def _on_writer(engine: Engine, work: Any) -> Any:
    """Run ``work(connection)`` as a writer turn, between ingest batches."""
    return await engine.on_writer(work)
