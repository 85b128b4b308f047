"""``sidelog prune``: apply retention and the size budget to a database now."""

from __future__ import annotations

import sys

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.store.database import StoreError


async def run_prune(settings: Settings) -> int:
    """Open the store (no endpoints), prune, report, close."""
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
