"""``GET /sidelog.js`` serves the file shipped in the package (``src/sidelog/static/sidelog.js``).

Needs no Node: it checks what the server sends, byte for byte, against the file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from importlib import resources

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.integration.http_support import http_base, start


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield engine
    await engine.stop()


async def test_the_served_script_is_the_packaged_static_file(server: Engine) -> None:
    shipped = resources.files("sidelog").joinpath("static", "sidelog.js").read_bytes()
    async with aiohttp.ClientSession() as session, session.get(f"{http_base(server)}/sidelog.js") as response:
        assert response.status == 200
        assert response.content_type == "application/javascript"
        body = await response.read()
    assert body == shipped
    assert b"logUserAction" in body
