"""``sidelog serve``: the endpoints and the writer, headless, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.ingest.tcp import StartupError
from sidelog.store.database import StoreError


async def start_engine(settings: Settings) -> Engine:
    """Build and start an engine with every endpoint the settings ask for.

    Shared by ``serve`` and the UI so both listen on exactly the same endpoints.
    Raises ``StartupError``/``StoreError`` with a one-line reason.
    """
    # The writer runs SQLite on the driver's thread, which must win the GIL back
    # after every statement step; with the default 5 ms switch interval a busy
    # event loop makes it wait that long each time. 1 ms keeps both threads moving.
    sys.setswitchinterval(0.001)
    engine = Engine(settings)
    try:
        await engine.start()
        if any(
            ep is not None and not ep.is_loopback for ep in (settings.tcp_endpoint, settings.http_endpoint)
        ):
            from sidelog.ingest.http import ensure_token

            # Until this runs remote socket clients are refused (fail closed).
            engine.token_file = ensure_token(engine)
        if settings.http_endpoint is not None:
            from sidelog.ingest.http import start_http_server

            await start_http_server(engine)
    except BaseException:
        await engine.stop(timeout=2.0)
        raise
    return engine


async def serve(settings: Settings) -> int:
    """Run headless; print one ``listening`` line per endpoint; exit 0 after draining."""
    try:
        engine = await start_engine(settings)
    except (StartupError, StoreError) as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first: a supervisor may send SIGTERM the moment it reads "listening".
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    for kind, address in engine.endpoints:
        print(f"listening {kind} {address}", flush=True)
    if engine.token_file is not None:
        print(f"remote clients must send the token in {engine.token_file}", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("stopping: draining queued events…", file=sys.stderr, flush=True)
    report = await engine.stop()
    counters = engine.counters
    print(
        f"stopped: {counters.stored} stored this run, {report.unsaved} unsaved, "
        f"{counters.write_failed} failed writes",
        file=sys.stderr,
        flush=True,
    )
    return 0 if report.unsaved == 0 and counters.write_failed == 0 else 1
