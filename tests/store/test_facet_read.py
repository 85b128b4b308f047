"""The engine's first read of the store: bounded with many distinct names, one line when damaged."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import now_ms
from sidelog.pipeline.live import MAX_FACET_VALUES, OTHER
from sidelog.store.checks import QUICK_CHECK_SYNC_BYTES
from sidelog.store.database import StoreError
from sidelog.store.files import side_files
from tests.store.support import event, insert, new_store, sha256

PAGE = 4096


def spoil_tail(db: Path, pages: int) -> None:
    """Random bytes over the last pages but two (where the small events and indexes are)."""
    with open(db, "r+b") as handle:
        for page in range(pages - 60, pages - 2):
            handle.seek(page * PAGE)
            handle.write(os.urandom(PAGE))


async def test_many_distinct_categories_are_read_capped_with_the_rest_under_other(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False)
    await new_store(settings.db)
    now = now_ms()
    names = MAX_FACET_VALUES + 4000
    floods = [
        replace(event("m", received_at=now), category=f"c{i:05d}", source=f"s{i}") for i in range(names)
    ]
    busy = [replace(event("m", received_at=now), category="busy") for _ in range(3)]
    insert(settings.db, floods + busy)
    engine = Engine(settings)
    await engine.open_store()
    try:
        counts = engine.facet_counts()
        for facet in ("category", "source"):
            assert len(counts[facet]) == MAX_FACET_VALUES + 1  # the busiest names and OTHER
            assert sum(counts[facet].values()) == names + 3
        assert counts["category"]["busy"] == 3
        assert counts["category"][OTHER] == names + 3 - 3 - (MAX_FACET_VALUES - 1)
        assert engine.stored_total == names + 3
    finally:
        await engine.stop()


async def test_a_large_file_damaged_past_its_first_pages_fails_its_first_read_in_one_line(
    make_settings: Callable[..., Settings],
) -> None:
    """Over ``QUICK_CHECK_SYNC_BYTES`` the integrity check runs after start-up, so the
    facet counts are the first read to meet the damage: a ``StoreError``, not a traceback."""
    settings = make_settings()
    db = settings.db
    await new_store(db)
    blob = "x" * (1 << 20)
    big = QUICK_CHECK_SYNC_BYTES // len(blob) + 2
    insert(db, [event(f"big {i}", received_at=now_ms(), details=blob) for i in range(big)])
    insert(db, [event(f"event {i}", received_at=now_ms(), details="d" * 100) for i in range(3000)])
    size = db.stat().st_size
    assert size > QUICK_CHECK_SYNC_BYTES
    spoil_tail(db, size // PAGE)
    before = sha256(db)
    engine = Engine(settings)
    with pytest.raises(StoreError) as raised:
        await engine.open_store()
    await engine.stop()
    message = str(raised.value)
    assert message.startswith(f"the database {db.resolve()} is damaged ("), message
    assert "\n" not in message
    assert "sqlalche" not in message
    assert "[SQL" not in message
    assert sha256(db) == before
    assert not any(side.exists() for side in side_files(db))
    again = Engine(settings)  # the lock was released: the same refusal, not "in use"
    with pytest.raises(StoreError, match="is damaged"):
        await again.open_store()
    await again.stop()
