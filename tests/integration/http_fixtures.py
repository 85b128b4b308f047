"""Fixtures for the HTTP API tests (loaded with ``pytest_plugins``, never imported)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.integration.http_support import start


@pytest.fixture
async def http_engine(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """An engine with TCP and HTTP on free ports, stopped after the test."""
    engine = await start(make_settings(http="127.0.0.1:0"))
    yield engine
    await engine.stop()


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    """An aiohttp client session."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        yield session
