"""The collector settings, the start-up freeze in ``serve``, releasing the heap after a flood,
and what ``serve`` does not load."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from sidelog.commands.serve import serve
from sidelog.config import Settings
from sidelog.pipeline.memory import FLOOD_EVENTS, GEN0_THRESHOLD, release_heap, tune_collector
from sidelog.server import start_server
from tests.conftest import tcp_port
from tests.integration.spine_support import event_line
from tests.support.wait import until


@pytest.fixture
def restore_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_collector")
def test_tune_collector_raises_only_the_young_generation() -> None:
    gc.set_threshold(700, 11, 12)
    tune_collector()
    assert gc.get_threshold() == (GEN0_THRESHOLD, 11, 12)
    tune_collector()  # idempotent
    assert gc.get_threshold() == (GEN0_THRESHOLD, 11, 12)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_release_heap_reaches_malloc_trim_on_glibc() -> None:
    blocks = [bytearray(65_536) for _ in range(1_000)]  # on the heap (below glibc's mmap threshold)
    kept = blocks[1::2]  # every other block stays: the freed ones are holes free() cannot trim
    del blocks
    assert release_heap() is True
    assert len(kept) == 500


@pytest.mark.usefixtures("restore_collector")
async def test_serve_freezes_start_up_and_unfreezes_when_it_returns(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert gc.get_freeze_count() == 0
    task = asyncio.create_task(serve(make_settings(enable_system_logging=False)))
    await until(lambda: gc.get_freeze_count() > 10_000 or task.done(), message="start-up frozen")
    assert not task.done()
    assert gc.get_threshold()[0] == GEN0_THRESHOLD
    os.kill(os.getpid(), signal.SIGTERM)  # serve's own handler: drain and return
    assert await asyncio.wait_for(task, 30) == 0
    assert gc.get_freeze_count() == 0
    assert "listening tcp" in capsys.readouterr().out


@pytest.mark.usefixtures("restore_collector")
async def test_the_writer_releases_the_heap_once_a_flood_has_drained(
    make_settings: Callable[..., Settings],
) -> None:
    # A long interval and a huge batch keep the flood queued until the sync flushes it.
    settings = make_settings(
        batch_interval_ms=5_000, max_events_per_batch=100_000, rate_limit_burst=0, enable_system_logging=False
    )
    running = await start_server(settings)
    engine = running.engine
    batcher = engine._batcher
    assert batcher is not None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tcp_port(engine))
        writer.write(event_line(message="first"))  # the idle writer's one eager write
        await until(lambda: engine.counters.stored == 1)
        assert batcher._release is None  # one event is no flood
        count = FLOOD_EVENTS + 1_000
        writer.write(b"".join(event_line(message=f"f{i}") for i in range(count)) + b'{"sync": true}\n')
        reply = json.loads(await asyncio.wait_for(reader.readline(), 30))
        assert reply == {"ok": True, "stored": count + 1}
        await until(lambda: batcher._release is not None and batcher._release.done(), message="heap released")
        assert batcher._release is not None
        assert isinstance(batcher._release.result(), bool)
        writer.close()
    finally:
        await running.stop()


def test_serve_loads_neither_the_ui_nor_the_http_stack() -> None:
    """``sidelog serve --http off`` needs no aiohttp; no path of serve needs Textual or the
    Sentry/OTLP decoders until their route is hit."""
    probe = (
        "import json, sys; import sidelog.cli, sidelog.commands.serve, sidelog.server; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"textual", "rich", "aiohttp", "google", "opentelemetry", "brotli"}
