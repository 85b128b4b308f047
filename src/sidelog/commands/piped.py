"""``CMD | sidelog`` and ``CMD | sidelog serve``: piped stdin read as a line source.

``cli.py`` hands ``sidelog`` and ``sidelog serve`` here; with stdin a terminal (or
``/dev/null``: nothing to read) they run exactly as before. With a pipe, a socket
or a file on stdin, its lines become events (``sidelog.sources.stdin``): under the
UI, which then reads its keys from ``/dev/tty``; headless, beside the usual
``serve``, which keeps serving after the pipe ends (other apps may still report)
and prints one line saying how the input ended.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import IO

from sidelog.config import Settings
from sidelog.sources.stdin import StdinError, feed_stdin, own_address, readable_stdin, take_stdin

__all__ = ["run_serve", "run_ui"]


def run_ui(settings: Settings) -> int:
    """``sidelog``: the UI, reading piped stdin as a source when there is one."""
    if not readable_stdin(0):
        from sidelog.tui.run import run_app

        return run_app(settings)
    try:
        stdin = take_stdin()
    except StdinError as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    from sidelog.tui.piped import run_piped_app

    return run_piped_app(settings, stdin)


def run_serve(settings: Settings) -> int:
    """``sidelog serve``: headless, reading piped stdin as a source when there is one."""
    from sidelog.commands.serve import serve

    if not readable_stdin(0):
        return asyncio.run(serve(settings))
    return asyncio.run(_serve_piped(settings, open(0, "rb", closefd=False)))  # noqa: SIM115 - fd 0 stays open


async def _serve_piped(settings: Settings, stdin: IO[bytes]) -> int:
    from sidelog.server import StartupError, StoreError, start_server

    try:
        running = await start_server(settings)
    except (StartupError, StoreError) as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    for kind, address in running.endpoints:
        print(f"listening {kind} {address}", flush=True)
    if running.token_file is not None:
        print(f"remote clients must send the token in {running.token_file}", file=sys.stderr, flush=True)

    async def read() -> None:
        try:
            summary = await feed_stdin(own_address(running.endpoints), stdin)
        except StdinError as exc:
            print(f"sidelog: stdin: {exc}", file=sys.stderr, flush=True)
            return
        print(f"stdin ended: {summary.describe()}", file=sys.stderr, flush=True)

    reader = asyncio.create_task(read(), name="stdin-source")
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    print("stopping: draining queued events…", file=sys.stderr, flush=True)
    report = await running.stop()
    counters = running.engine.counters
    print(
        f"stopped: {counters.stored} stored this run, {report.unsaved} unsaved, "
        f"{counters.write_failed} failed writes",
        file=sys.stderr,
        flush=True,
    )
    return 0 if report.unsaved == 0 and counters.write_failed == 0 else 1
