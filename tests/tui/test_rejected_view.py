"""The rejected view (``x``, or Ctrl+P "rejected") and the health bar's refusal and WAL segments."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static

from sidelog.config import Settings
from sidelog.health import Health
from sidelog.tui.palette import PaletteList
from sidelog.tui.screens.rejected import RejectedScreen
from sidelog.tui.widgets.healthbar import HealthBar
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import FAST, running_app, until


async def test_palette_and_key_open_the_rejected_view_with_safe_samples(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        assert app.engine is not None
        replies = await send_lines(tcp_port(app.engine), b'{"message": "\\u001b]0;pwned", "type": 7}\n')
        assert "type must be a string" in replies[0]["error"]
        app.engine.counters.refusals.add(
            "POST /v1/events 127.0.0.1:1", "[bold]markup[/] is data", status=403, sample=b"\x1b[2J\xff"
        )
        await pilot.press("ctrl+p")
        await pilot.press(*"rejected input")
        options = app.screen.query_one(PaletteList)
        await until(pilot, lambda: options.option_count > 1)
        for _ in range(options.option_count):  # the typed "toggle category named …" may come first
            if "Rejected input" in str(options.highlighted_option):
                break
            await pilot.press("down")
        assert "Rejected input" in str(options.highlighted_option)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RejectedScreen))
        text = str(app.screen.query_one("#rejected-list", Static).render())
        assert "2 refused since start" in text
        assert "HTTP: 1× 403" in text
        assert "type must be a string" in text
        assert "[bold]markup[/] is data" in text  # shown literally, never parsed
        assert "␛[2J" in text
        assert "\x1b" not in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RejectedScreen))
        await pilot.press("x")  # the key does the same
        await until(pilot, lambda: isinstance(app.screen, RejectedScreen))
        await pilot.press("q")  # closes the view, not the app
        await until(pilot, lambda: not isinstance(app.screen, RejectedScreen))
        assert app.is_running


async def test_health_bar_shows_refusals_and_a_pinned_wal(settings: Settings) -> None:
    quiet = replace(FAST, health=3600)  # the snapshots set below must not be overwritten
    async with running_app(settings, size=(160, 30), intervals=quiet) as (app, pilot):
        bar = app.query_one(HealthBar)
        await until(pilot, lambda: bar.health is not None)
        assert bar.health is not None
        app.workers.cancel_group(app, "health")
        refused = replace(
            bar.health,
            counters={"refused": {"403": 2, "413": 1}},
            capture_rate=0.9999,
            wal_bytes=70 * 1024 * 1024,
            wal_pinned=True,
        )
        bar.health = refused
        await pilot.pause()
        text = "\n".join(line.plain for line in bar.lines(158))
        assert "http refused: 2 403, 1 413" in text
        assert "capture 99.9%" in text
        assert "WAL 70 MiB: pinned by a long reader" in text
        skipped = replace(refused, wal_skipped="the disk has 3 MiB free and the checkpoint may need 40 MiB")
        bar.health = skipped
        await pilot.pause()
        text = "\n".join(line.plain for line in bar.lines(158))
        assert "WAL 70 MiB: checkpoint skipped, disk nearly full" in text
        wire = Health.to_wire(skipped)
        assert wire["wal"]["pinned"] is True
        assert wire["wal"]["note"] == "WAL 70 MiB: checkpoint skipped, disk nearly full"
