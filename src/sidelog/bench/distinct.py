"""A flood of distinct names measured: server memory, and the UI's palette over such a store.

``measure_server`` runs ``sidelog serve`` as a subprocess and sends it events whose
category (or source) is new every time, acknowledged in chunks, and reads the
server's resident memory (``/proc/PID/status``) before and after. The same flood
with a single category is measured beside it: the store's page cache grows with the
file whatever the names are, so that run says how much of the growth the names cost.

``measure_palette`` fills a store with such events, opens the real app on it under
``App.run_test()`` with a driver that notes when each frame went out, and times
key-to-screen: from ``ctrl+p`` to the first frame showing the palette's list, and
from each typed key to the first frame showing that query's results (the driver notes,
as each frame goes out, which query the listed results are for). The first open comes
right after start-up, while the app still loads the store; ``reopen_palette_median_ms``
is the median of five more once it has settled.

    python -m sidelog.bench.distinct --events 200000

Figures on a shared machine vary with its load; compare runs made together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidelog.bench.serve_process import ServeProcess

CHUNK = 5000
"""Events sent between two acknowledgements."""


def _status(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _name(kind: str, number: int, width: int) -> str:
    return f"{kind[:3]}-{number:07d}-".ljust(width, "x")


def _send(sock: socket.socket, replies: Any, lines: list[bytes]) -> None:
    sock.sendall(b"\n".join(lines) + b'\n{"sync": true}\n')
    answer = json.loads(replies.readline())
    if answer.get("ok") is not True:
        raise RuntimeError(f"the server did not acknowledge: {answer}")


def measure_server(
    kind: str, events: int, *, name_bytes: int = 32, folder: Path | None = None
) -> dict[str, Any]:
    """RSS of ``sidelog serve`` before and after ``events`` events, each with a new ``kind``
    (``category`` or ``source``), or all with one category (``kind="same"``)."""
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sidelog-distinct-")))
        db = folder / f"{kind}.db"
        server = ServeProcess(db)
        stack.callback(server.kill)
        pid = server.proc.pid
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=120))
        replies = stack.enter_context(sock.makefile("rb"))
        warm = [json.dumps({"message": "warm-up", "category": "warm"}).encode() for _ in range(2000)]
        _send(sock, replies, warm)
        before = _status(pid, "VmRSS")
        started = time.monotonic()
        for start in range(0, events, CHUNK):
            lines = []
            for number in range(start, min(events, start + CHUNK)):
                event: dict[str, Any] = {"message": f"event {number}"}
                if kind == "same":
                    event["category"] = "flood"
                else:
                    event[kind] = _name(kind, number, name_bytes)
                lines.append(json.dumps(event).encode())
            _send(sock, replies, lines)
        seconds = time.monotonic() - started
        after, peak = _status(pid, "VmRSS"), _status(pid, "VmHWM")
        with contextlib.closing(sqlite3.connect(db)) as conn:
            column = "category" if kind == "same" else kind
            stored, distinct = conn.execute(
                f"SELECT count(*), count(DISTINCT {column}) FROM events"
            ).fetchone()
    mib = 1 / 2**20
    return {
        "kind": kind,
        "events": events,
        "name_bytes": name_bytes,
        "stored": stored,
        "distinct": distinct,
        "rss_before_mib": round(before * mib, 1),
        "rss_after_mib": round(after * mib, 1),
        "rss_growth_mib": round((after - before) * mib, 1),
        "peak_growth_mib": round((peak - before) * mib, 1),
        "events_per_s": round(events / seconds),
    }


def fill_distinct(db: Path, events: int, *, name_bytes: int = 32) -> None:
    """A closed store holding ``events`` events, each in a category of its own (and a few busy ones)."""
    from sidelog.events import Event, now_ms
    from sidelog.store.database import open_schema, prepare_folder
    from sidelog.store.models import event_to_row
    from sidelog.store.schema import INSERT_EVENTS_SQL

    prepare_folder(db)
    open_schema(db)
    now = now_ms()
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        rows = (
            event_to_row(
                Event(
                    message=f"event {n}",
                    category=_name("category", n, name_bytes) if n % 10 else "busy",
                    level="info",
                    timestamp=now,
                    received_at=now,
                    source="server",
                ),
                n + 1,
            )
            for n in range(events)
        )
        conn.executemany(INSERT_EVENTS_SQL, rows)
        conn.execute("COMMIT")


async def measure_palette(
    db: Path, queries: tuple[str, ...] = ("cat-0123456", "busy", "zz-none")
) -> dict[str, Any]:
    """Key-to-screen in the real app over ``db``: open the palette, type each query."""
    from textual import events as textual_events

    from sidelog.bench.ui_driver import FrameClock
    from sidelog.config import load_settings
    from sidelog.tui.app import SidelogApp

    settings = load_settings(db=db, tcp="127.0.0.1:0", http="off", enable_system_logging=False)
    app = SidelogApp(settings)

    class PaletteFrames(FrameClock):
        """Notes, as each frame goes out, which query the palette's results in it are for."""

        def write(self, data: str) -> None:
            super().write(data)
            frames.append((time.perf_counter(), _shown(app)))

    frames: list[tuple[float, str | None]] = []
    app.driver_class = PaletteFrames
    FrameClock.writes = []

    async def key_to_screen(key: str, expected: str) -> float:
        """From posting ``key`` to the first frame that shows the palette's results for ``expected``."""
        del frames[:]
        moment = time.perf_counter()
        app.post_message(textual_events.Key(key, key if len(key) == 1 else None))
        await _wait(lambda: any(query == expected for _, query in frames), 60)
        return (next(stamp for stamp, query in frames if query == expected) - moment) * 1000

    async def close() -> None:
        """Escape, then wait for a quiet moment (no frame for 0.3 s, at most 5 s): what the
        main screen does when it is back is not the next open's cost."""
        app.post_message(textual_events.Key("escape", None))
        await _wait(lambda: _input_value(app) is None)
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            last = FrameClock.writes[-1][0] if FrameClock.writes else 0.0
            if time.perf_counter() - last > 0.3:
                break
            await asyncio.sleep(0.05)

    figures: dict[str, Any] = {}
    async with app.run_test(headless=False, size=(160, 45)):
        await _wait(app.ready.is_set)
        figures["open_palette_ms"] = round(await key_to_screen("ctrl+p", ""), 1)
        figures["palette_options_listed"] = _options(app)
        for query in queries:
            typed = ""
            keys = []
            for letter in query:
                typed += letter
                keys.append(await key_to_screen(letter, typed))
            figures[f"type_{query}_worst_key_ms"] = round(max(keys), 1)
            figures[f"type_{query}_options"] = _options(app)
            for _ in query:
                app.post_message(textual_events.Key("backspace", None))
            await _wait(lambda: _shown(app) == "")
        await close()
        reopen = []
        for _ in range(5):
            reopen.append(await key_to_screen("ctrl+p", ""))
            await close()
        figures["reopen_palette_median_ms"] = round(statistics.median(reopen), 1)
    return figures


def _input_value(app: Any) -> str | None:
    from sidelog.tui.palette import PaletteInput, PaletteScreen

    screen = app.screen
    return screen.query_one(PaletteInput).value if isinstance(screen, PaletteScreen) else None


def _options(app: Any) -> int:
    from sidelog.tui.palette import PaletteList, PaletteScreen

    screen = app.screen
    return screen.query_one(PaletteList).option_count if isinstance(screen, PaletteScreen) else -1


def _shown(app: Any) -> str | None:
    """The query the palette lists results for, or ``None`` (closed, or listing nothing)."""
    return _input_value(app) if _options(app) > 0 else None


async def _wait(predicate: Callable[[], bool], timeout: float = 120.0, *, fail: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            if fail:
                raise TimeoutError("the app did not reach the expected state")
            return
        await asyncio.sleep(0.001)


def main(argv: list[str] | None = None) -> int:
    """``python -m sidelog.bench.distinct``: print every figure as JSON."""
    parser = argparse.ArgumentParser(prog="python -m sidelog.bench.distinct")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--name-bytes", type=int, default=32)
    parser.add_argument("--skip-ui", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"server": []}
    for kind in ("same", "category", "source"):
        results["server"].append(measure_server(kind, args.events, name_bytes=args.name_bytes))
        print(json.dumps(results["server"][-1]), file=sys.stderr, flush=True)
    if not args.skip_ui:
        with tempfile.TemporaryDirectory(prefix="sidelog-palette-") as folder:
            db = Path(folder) / "db" / "events.db"
            fill_distinct(db, args.events, name_bytes=args.name_bytes)
            results["palette"] = asyncio.run(measure_palette(db))
    results["machine_load"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
