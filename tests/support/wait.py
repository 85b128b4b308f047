"""One way to wait in a test: poll a condition until it holds, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

POLL_S = 0.01
"""How often a condition is checked: short, so a test ends as soon as it can."""


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,
    *,
    message: str = "condition",
    poll: float = POLL_S,
) -> None:
    """Return as soon as ``condition()`` holds (it may be a coroutine function); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = bool(await result)
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout}s")
        await asyncio.sleep(poll)


def until_sync(
    condition: Callable[[], bool], timeout: float = 10.0, *, message: str = "condition", poll: float = POLL_S
) -> None:
    """``until`` for code outside an event loop (threads, subprocesses)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout}s")
        time.sleep(poll)
