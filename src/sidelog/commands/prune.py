"""``sidelog prune``: apply retention and the size budget to a database now."""

from __future__ import annotations

import sys

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.store.database import StoreError


async def run_prune(settings: Settings, to: str | None = None, token: str | None = None) -> int:
    """Open the store (no endpoints), prune, report, close.

    A database a running server holds is pruned by that server instead, asked over
    HTTP at ``to`` (``sidelog.commands.remote``) with ``token`` if given.
    """
    from sidelog.commands.remote import database_in_use, prune_remote

    if not settings.store.is_postgres and not settings.db.exists():
        print(f"sidelog: no database at {settings.db} (use --db or SIDELOG_DB)", file=sys.stderr)
        return 1
    if database_in_use(settings.db):
        return await prune_remote(settings, to, token)
    engine = Engine(settings)
    try:
        await engine.open_store()
    except StoreError as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        await engine.stop(timeout=1.0)
        return 1
    try:
        result = await engine.prune()
    finally:
        await engine.stop()
    print(
        f"pruned: {result.deleted} events deleted, {result.archived} errors archived "
        f"(retention {settings.retention_days} days, budget {settings.db_budget_mb} MiB)"
    )
    return 0
