"""A local HTTP server for the integration tests: what an app's outgoing calls talk to.

Runs on the test's event loop on a free port (blocking clients call it from a
thread). ``/ok`` answers 200, ``/fail`` 503, ``/slow`` after ``?ms=`` milliseconds,
``/redirect`` 302 to ``/ok``, ``/echo`` the request body; every answer carries an
``x-request-id`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from sidelog.engine import Engine
from sidelog_client.config import ClientConfig
from sidelog_client.logger import EventLogger
from tests.client.conftest import flush, stored


class HttpApp:
    """The running server: ``url(path)`` and the bodies it received."""

    def __init__(self) -> None:
        self.base = ""
        self.bodies: list[bytes] = []
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        self.bodies.append(body)
        headers = {"x-request-id": f"req-{name}"}
        if name == "fail":
            return web.Response(status=503, text="down for maintenance", headers=headers)
        if name == "slow":
            # The server is slow on purpose: the call the hook must classify as slow.
            await asyncio.sleep(int(request.query.get("ms", "150")) / 1000)
            return web.Response(text="slow answer", headers=headers)
        if name == "redirect":
            raise web.HTTPFound("/ok", headers=headers)
        if name == "echo":
            return web.Response(body=body, headers=headers)
        return web.Response(text=f"{name} answer", headers=headers)


@contextlib.asynccontextmanager
async def running_app() -> AsyncIterator[HttpApp]:
    """The server, started on a free port and stopped afterwards."""
    server = HttpApp()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class BrokenLogger(EventLogger):
    """A logger whose ``event`` raises: what a hook failing inside looks like to the app."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the sidelog hook broke")


def broken_logger() -> BrokenLogger:
    return BrokenLogger("127.0.0.1:9", enabled=False, config=ClientConfig())


async def logged(
    logger: EventLogger, engine: Engine, where: str = "category = 'http'"
) -> list[dict[str, Any]]:
    """What sidelog stored, once everything ``logger`` logged is acknowledged."""
    assert await flush(logger)
    return stored(engine.settings.db, where)


def closed_url() -> str:
    """A URL on a loopback port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/nothing"
