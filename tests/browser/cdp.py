"""A headless Chromium driven over the Chrome DevTools Protocol, for the browser tests.

Debian's ``chromium`` package is started once per test session (per xdist worker)
with ``--remote-debugging-port=0``; each test opens its own tab over one websocket
(aiohttp's client) in its own event loop. Only what the tests need: open a page,
wait for it to load, evaluate an expression (awaiting its promise), and collect
console messages and uncaught page exceptions. Nothing is downloaded: without a
``chromium`` on the machine the tests are skipped with the reason printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.wait import until

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    """The Chromium binary (Debian's ``chromium``), if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """A running headless Chromium; ``ws_url`` is its browser-level DevTools endpoint."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ws_url = self._wait_for_endpoint(timeout=60)

    def _wait_for_endpoint(self, timeout: float) -> str:
        """Read stderr until Chromium prints its DevTools address (then keep draining it)."""
        assert self.process.stderr is not None
        stderr = self.process.stderr
        found: list[str] = []
        seen: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in stderr:
                if not found and "DevTools listening on " in line:
                    found.append(line.split("DevTools listening on ", 1)[1].strip())
                    ready.set()
                elif not found:
                    seen.append(line)
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True, name="chromium-stderr")
        self._reader.start()
        ready.wait(timeout)
        if not found:
            self.close()
            raise RuntimeError("chromium did not start: " + "".join(seen)[-2000:])
        return found[0]

    def close(self) -> None:
        """Stop the browser (this process only)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reader.join(10)  # at end of file once the browser is gone
        if self.process.stderr is not None:
            self.process.stderr.close()


class PageError(AssertionError):
    """An expression evaluated in the page threw."""


class Page:
    """One tab: ``goto``, ``evaluate``; console messages and page exceptions are recorded."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._http = http
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._session: str | None = None
        self._target: str | None = None
        self.console: list[tuple[str, str]] = []
        """``(level, text)`` of every console message of the page."""
        self.exceptions: list[str] = []
        """Uncaught exceptions (and unhandled rejections) in the page."""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, browser_ws_url: str) -> Page:
        """A new blank tab in the running browser."""
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(browser_ws_url, max_msg_size=0)
        page = cls(http, ws)
        created = await page.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        page._target = created["targetId"]
        attached = await page.send(
            "Target.attachToTarget", {"targetId": page._target, "flatten": True}, browser=True
        )
        page._session = attached["sessionId"]
        await page.send("Runtime.enable")
        await page.send("Page.enable")
        return page

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
                continue
            method = data.get("method")
            params = data.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
                self.console.append((params["type"], text))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.exceptions.append(str(details.get("exception", {}).get("description", details["text"])))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False) -> Any:
        """One DevTools command; its ``result``."""
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self._session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self._ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def goto(self, url: str) -> None:
        """Navigate and wait until the document has loaded."""
        await self.send("Page.navigate", {"url": url})
        await until(lambda: self._location_loaded(url), timeout=30, message=f"{url} loaded", poll=0.02)

    async def _location_loaded(self, url: str) -> bool:
        state = await self.evaluate("[document.readyState, location.href]")
        return bool(state[0] == "complete" and state[1] == url)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page (a promise is awaited)."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True, "userGesture": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise PageError(details.get("exception", {}).get("description", details.get("text")))
        return result["result"].get("value")

    async def close(self) -> None:
        """Close the tab and the connection."""
        with contextlib.suppress(Exception):
            if self._target is not None:
                await self.send("Target.closeTarget", {"targetId": self._target}, browser=True)
        await self._ws.close()
        await self._http.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
