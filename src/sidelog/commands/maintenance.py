"""``sidelog vacuum`` and ``sidelog recover``: care for the database file.

``vacuum`` compacts a file nobody is using and gives free pages back to the disk;
when a running server holds the file's lock, it asks that server to give its free
pages back instead (``POST /v1/vacuum``, ``sidelog.commands.remote``), which it does
between ingest batches. ``recover`` needs the file to itself (a running server: one
line, stop it first); it copies whatever can still be read from a damaged file into
a new one and keeps the damaged file aside, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from sidelog.commands.common import CommandError
from sidelog.commands.remote import database_in_use
from sidelog.config import Settings
from sidelog.store.errors import StoreError


def _check_free(db: Path) -> None:
    if not db.exists():
        raise CommandError(f"no database at {db} (use --db or SIDELOG_DB)")
    if database_in_use(db):
        raise CommandError(f"{db} is in use by a running sidelog: stop it first")


def run_vacuum(settings: Settings, to: str | None = None, token: str | None = None) -> int:
    """Compact ``settings.db``, or have the server using it give free pages back; one line."""
    from sidelog.store.maintenance import vacuum

    db = settings.db
    if db.exists() and database_in_use(db):
        import asyncio

        from sidelog.commands.remote import vacuum_remote

        return asyncio.run(vacuum_remote(settings, to, token))
    _check_free(db)
    try:
        result = vacuum(db)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    freed = result.bytes_before - result.bytes_after
    print(f"vacuumed {db}: {result.bytes_before:,} → {result.bytes_after:,} bytes ({freed:,} freed)")
    return 0


def run_recover(db: Path) -> int:
    """Copy what can be read from ``db`` into a new file; keep the damaged one aside."""
    from sidelog.store.maintenance import recover

    _check_free(db)
    try:
        result = recover(db)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    rows = ", ".join(f"{count:,} {table}" for table, count in result.rows.items()) or "no rows"
    print(f"recovered {db}: {rows}; the damaged file is kept as {result.damaged}")
    return 0
