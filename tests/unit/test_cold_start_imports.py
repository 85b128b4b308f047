"""The UI's cold start loads only what the newest events on screen need.

Each probe runs in a fresh interpreter (``sys.modules`` of the test process holds
whatever other tests imported): the UI's first frame (the newest stored events, read
with plain ``sqlite3``) is drawn before SQLAlchemy, aiohttp or the engine is loaded, a
SQLite store never loads the PostgreSQL modules, the endpoints are imported only after
the paint step of ``start_server``, and a terminal on stdin never loads the line-source
modules of ``CMD | sidelog``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sidelog.config import load_settings
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port

POSTGRES_MODULES = ("sidelog.store.pg_", "sqlalchemy.dialects.postgresql", "asyncpg")
ENDPOINT_MODULES = ("sidelog.ingest.tcp", "sidelog.ingest.accept", "sidelog.ingest.tokens")
ENGINE_SIDE_MODULES = (
    "sqlalchemy",
    "aiohttp",
    "sidelog.engine",
    "sidelog.server",
    "sidelog.store.schema",
    "sidelog.store.database",
    "sidelog.store.reader",
)
"""What the UI's first frame must not wait for (tui/startup.py loads it after that frame)."""

FIRST_FRAME = """
import json, sys
from pathlib import Path
from textual import events
from sidelog.commands.piped import run_ui  # what `sidelog` imports on its way to App.run
from sidelog.config import load_settings
from sidelog.tui.run import run_app
from sidelog.tui.app import SidelogApp
from sidelog.tui.widgets.first_page import FirstPage

heavy = tuple(sys.argv[2].split(","))
seen = {"imported": sorted(m for m in sys.modules if m.startswith(heavy))}

class FirstFrame(SidelogApp):
    def on_ready(self, event: events.Ready) -> None:  # the first frame is on screen
        event.prevent_default()
        seen["at_first_frame"] = sorted(m for m in sys.modules if m.startswith(heavy))
        seen["first_page"] = [e.message for e in self.query_one(FirstPage).events]
        self.exit()

FirstFrame(load_settings(db=Path(sys.argv[1]), tcp="127.0.0.1:0", http="off")).run(headless=True)
print(json.dumps(seen))
"""

START_SERVER = """
import asyncio, json, sys
from pathlib import Path
from sidelog.config import load_settings
from sidelog.server import start_server

def loaded(prefixes):
    return sorted(m for m in sys.modules if m.startswith(prefixes))

async def main():
    settings = load_settings(db=Path(sys.argv[1]), tcp="127.0.0.1:0", http="off")
    seen = {}

    async def opened(engine):
        seen["at_paint"] = loaded(tuple(sys.argv[2].split(",")))
        seen["newest"] = [e.message for e in await engine.events(engine_filter(), limit=5)]

    running = await start_server(settings, opened=opened)
    seen["endpoints"] = [kind for kind, _ in running.endpoints]
    await running.stop()
    seen["after_stop"] = loaded(tuple(sys.argv[3].split(",")))
    print(json.dumps(seen))

def engine_filter():
    from sidelog.filters import EMPTY_FILTER
    return EMPTY_FILTER

asyncio.run(main())
"""


def _probe(code: str, *args: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_a_sqlite_store_binds_its_endpoints_after_the_paint_step_without_postgres(tmp_path: Path) -> None:
    seen = _probe(
        START_SERVER, str(tmp_path / "events.db"), ",".join(ENDPOINT_MODULES), ",".join(POSTGRES_MODULES)
    )
    assert seen["at_paint"] == []  # nothing of the endpoints loaded while the store is painted
    assert seen["endpoints"] == ["tcp"]  # and they are bound once it is
    assert seen["after_stop"] == []  # no PostgreSQL module, even after a whole run


async def test_the_first_frame_shows_the_store_without_sqlalchemy_aiohttp_or_the_engine(
    tmp_path: Path,
) -> None:
    db = tmp_path / "events.db"
    running = await start_server(load_settings(db=db, tcp="127.0.0.1:0", http="off"))
    try:
        await send_lines(tcp_port(running.engine), b'{"message": "stored before the launch"}\n')
    finally:
        await running.stop()
    seen = _probe(FIRST_FRAME, str(db), ",".join(ENGINE_SIDE_MODULES))
    assert seen["imported"] == []  # the modules `sidelog` imports before App.run
    assert seen["at_first_frame"] == []  # nor anything the first frame's compose needed
    assert seen["first_page"][-1] == "stored before the launch"


PIPED = """
import json, os, pty, sys
from sidelog.commands.piped import stdin_piped
primary, terminal = pty.openpty()
read_end, write_end = os.pipe()
answer = {"terminal": [str(stdin_piped(terminal))],
          "loaded_for_terminal": sorted(m for m in sys.modules if m.startswith("sidelog.sources")),
          "pipe": [str(stdin_piped(read_end))]}
print(json.dumps(answer))
"""


def test_a_terminal_on_stdin_loads_no_line_source() -> None:
    seen = _probe(PIPED)
    assert seen["terminal"] == ["False"]
    assert seen["loaded_for_terminal"] == []
    assert seen["pipe"] == ["True"]  # a pipe still becomes a line source
