"""``sidelog run`` under the UI: the wrapped command's output is on screen and in the store."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from sidelog.commands.run import child_extras, report_to
from sidelog.config import Settings
from sidelog.tui.run import _WrappingApp
from tests.support.wait import until
from tests.tui.conftest import query_db

SCRIPT = """
import sys
print("server ready on :3000", flush=True)
print("ERROR payment failed for order 7", flush=True)
sys.exit(int(sys.argv[1]))
"""

LONG_RUNNING = """
import time
print("dev server up", flush=True)
time.sleep(60)
"""


def runner(tmp_path: Path, source: str, *args: str) -> Callable[[list[tuple[str, str]]], object]:
    script = tmp_path / "child.py"
    script.write_text(source)

    async def run(endpoints: list[tuple[str, str]]) -> int:
        address = dict(endpoints)["tcp"]
        argv = [sys.executable, str(script), *args]
        return await report_to(
            address,
            argv,
            name="web",
            env=child_extras(address, "off"),
            echo=False,
            forward_signals=False,
            announce=False,
        )

    return run


async def test_the_wrapped_commands_lines_are_stored_and_its_status_kept(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    app = _WrappingApp(settings, runner(tmp_path, SCRIPT, "3"))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 35)) as pilot:
        await until(lambda: app.child_status is not None, 20, message="the child ended")
        assert app.child_status == 3
        await pilot.press("q")
    rows = query_db(settings.db, "SELECT level, category, message FROM events WHERE category = 'web'")
    assert ("info", "web", "server ready on :3000") in rows
    assert ("error", "web", "ERROR payment failed for order 7") in rows
    assert ("error", "web", "web exited with status 3") in rows


async def test_quitting_the_ui_stops_the_wrapped_command(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    app = _WrappingApp(settings, runner(tmp_path, LONG_RUNNING))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 35)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 20)  # the store exists (with its tables) from here
        await until(
            lambda: bool(query_db(settings.db, "SELECT 1 FROM events WHERE message = 'dev server up'")),
            20,
            message="the child's first line stored",
        )
        pids = query_db(
            settings.db, "SELECT json_extract(details, '$.pid') FROM events WHERE message LIKE 'web started%'"
        )
        await pilot.press("q")
    pid = int(pids[0][0])
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
