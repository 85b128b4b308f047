"""Browser-test fixtures: headless Chromium, a real sidelog over HTTP, and a page server.

Pages come from a tiny aiohttp server on its own port (so sidelog.js is loaded
cross-origin from sidelog, as an app's dev server would load it); the same server
answers the pages' API calls (``/api/…``) and serves npm packages the test run
installed (``/npm/…``).
"""

from __future__ import annotations

import asyncio
import html
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.browser.cdp import Chromium, Page, find_chromium
from tests.client.conftest import stored
from tests.integration.http_support import http_base, start

REQUEST_IDS = {"/api/ok": "req-ok-1", "/api/fail": "req-fail-7", "/api/slow": "req-slow-3"}


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """One headless Chromium per test session (per xdist worker)."""
    binary = find_chromium()
    if binary is None:
        reason = "no chromium on this machine (apt-get install -y chromium): browser tests skipped"
        print(reason)
        pytest.skip(reason)
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture
async def page(chromium: Chromium) -> AsyncIterator[Page]:
    """A fresh tab, closed after the test."""
    tab = await Page.open(chromium.ws_url)
    yield tab
    await tab.close()


@pytest.fixture
async def sidelog(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    """A real sidelog with its HTTP API on a free port."""
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield engine
    await engine.stop()


async def events(engine: Engine, where: str = "1") -> list[dict[str, Any]]:
    """Stored rows (details decoded), once everything sent so far is committed."""
    from sidelog.pipeline.queue import Origin

    await engine.wait_committed(Origin("test"))
    return stored(engine.settings.db, where)


def closed_port() -> int:
    """A loopback port nothing listens on: a fetch there is a network failure."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PageServer:
    """Serves ``pages[name]`` at ``/p/name``, the test API under ``/api``, npm files under ``/npm``."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.npm: Path | None = None
        self.posted: list[tuple[str, str, str]] = []
        """``(path, content type, body)`` of every POST to ``/v1/…`` (a stand-in endpoint)."""
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/p/{name}", self._page)
        app.router.add_route("*", "/api/{name}", self._api)
        app.router.add_get("/npm/{path:.+}", self._npm)
        app.router.add_post("/v1/{path:.+}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base}/p/{name}"

    async def _page(self, request: web.Request) -> web.Response:
        body = self.pages.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(text=body, content_type="text/html")

    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        await request.read()
        headers = {"x-request-id": REQUEST_IDS.get(request.path, "")}
        if name == "slow":
            # The server is slow on purpose: what the capture must classify as slow.
            await asyncio.sleep(int(request.query.get("ms", "300")) / 1000)
            return web.Response(text="slow-body", headers=headers)
        if name == "fail":
            return web.Response(status=503, text="fail-body", headers=headers)
        return web.Response(text=f"{name}-body", headers=headers)

    async def _npm(self, request: web.Request) -> web.StreamResponse:
        if self.npm is None:
            raise web.HTTPNotFound()
        path = (self.npm / request.match_info["path"]).resolve()
        if not path.is_relative_to(self.npm.resolve()) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def _post(self, request: web.Request) -> web.Response:
        self.posted.append((request.path, request.content_type, await request.text()))
        return web.json_response({"ok": True}, status=201 if request.path == "/v1/feedback" else 202)


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    server = PageServer()
    await server.start()
    yield server
    await server.stop()


def page_html(
    script_src: str,
    attrs: dict[str, str],
    app: str,
    body: str = "",
    head: str = "",
    crossorigin: bool = False,
) -> str:
    """A page loading sidelog.js with ``data-`` attributes, then the app's script."""
    attributes = "".join(f' data-{name}="{html.escape(value)}"' for name, value in attrs.items())
    if crossorigin:
        attributes += " crossorigin"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"{head}<script src='{script_src}'{attributes}></script></head>"
        f"<body>{body}<script>{app}</script></body></html>"
    )


def script_src(engine: Engine) -> str:
    return f"{http_base(engine)}/sidelog.js"
