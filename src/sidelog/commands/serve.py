"""``sidelog serve``: the endpoints and the writer, headless, until SIGINT/SIGTERM.

Starting is ``sidelog.server.start_server``'s job (shared with the UI); this module
only reports what started and waits for a signal to drain.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from typing import IO

from sidelog.config import Settings
from sidelog.pipeline.memory import freeze_start_up, release_heap
from sidelog.server import StartupError, StoreError, start_server


async def serve(settings: Settings, stdin: IO[bytes] | None = None) -> int:
    """Run headless; print one ``listening`` line per endpoint; exit 0 after draining.

    ``stdin``, when given (``CMD | sidelog serve``), is read as a line source beside the
    endpoints until it ends; serving goes on after that (commands/piped.py).
    """
    try:
        running = await start_server(settings)
    except (StartupError, StoreError) as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first: a supervisor may send SIGTERM the moment it reads "listening".
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    for kind, address in running.endpoints:
        print(f"listening {kind} {address}", flush=True)
    if running.token_file is not None:
        print(f"remote clients must send the token in {running.token_file}", file=sys.stderr, flush=True)
    reader: asyncio.Task[None] | None = None
    if stdin is not None:
        from sidelog.sources.stdin import read_stdin_into

        reader = asyncio.create_task(read_stdin_into(running.endpoints, stdin), name="stdin-source")
    freeze_start_up()  # start-up objects live as long as the server: no full scans of them
    await asyncio.to_thread(release_heap)  # what start-up freed (the first counts…) goes back to the OS
    try:
        await stop.wait()
    finally:
        gc.unfreeze()  # a caller that goes on (tests) gets an ordinary collector back
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if reader is not None:
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
