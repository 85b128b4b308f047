"""The fixture the shared store suites use: one engine on each store (tests/support/both_stores.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.support.both_stores import STORES, start_on


@pytest.fixture(params=STORES)
async def store(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Engine]:
    """An empty store's running engine, on SQLite and then on PostgreSQL."""
    running = await start_on(request, make_settings, tmp_path)
    yield running.engine
    await running.stop()
