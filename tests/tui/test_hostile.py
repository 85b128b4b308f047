"""Hostile event text renders literally and never reaches the terminal as control sequences.

Events go in over TCP into a real engine; the app runs with a driver that records
every byte Textual would write to the terminal. The payloads' sanitized forms must be
on screen, and none of their escape, C1, BEL or bidi characters may be in the output.
"""

from __future__ import annotations

import json
import re
from typing import Any

from textual.drivers.headless_driver import HeadlessDriver

from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.textsafe import is_safe, safe_text
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.text_lines import TextLines
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import StreamApp, until

HOSTILE_MESSAGES = [
    "[@click=app.quit]x[/]",
    "[bold red]FAKE[/]",
    "[/",
    "osc0 \x1b]0;PWNED-TITLE\x07 end",
    "osc2 \x1b]2;PWNED-T2\x1b\\ end",
    "osc8 \x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "osc52 \x1b]52;c;UFdORUQ=\x07",
    "csi \x1b[2J\x1b[31mRED\x1b[0m \x1b[33;77f",
    "c1 \x9b31mC1RED \x9d0;C1TITLE\x9c \x90dcs\x9c",
    "bell \x07\x07",
    "bidi \u202eevil\u202c \u2066iso\u2069 \u200emark\u200f \u061c",
    "mixed \x1b[?1049h\x1b]0;x\x07\u202e[b]x[/b]",
]
"""Each must show literally (sanitized) and do nothing."""

FORBIDDEN = [
    "\x9b",
    "\x9d",
    "\x9c",
    "\x90",
    "\u202e",
    "\u202c",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]
PAYLOAD_SEQUENCES = [
    "\x1b]0;PWNED",
    "\x1b]2;PWNED",
    "\x1b]8;;http://evil",
    "\x1b]52;",
    "\x1b[2J",
    "\x1b[?1049h",
    "\x1b[33;77f",
    "\x1b[31mRED",
]


class RecordingDriver(HeadlessDriver):
    """A headless driver that reports itself as a terminal, so Textual writes real output here."""

    output: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        RecordingDriver.output.append(data)


class RecordingApp(StreamApp):
    """The stream test app, writing to a ``RecordingDriver``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.driver_class = RecordingDriver


def _terminal_output() -> str:
    return "".join(RecordingDriver.output)


def _assert_inert(output: str) -> None:
    for char in FORBIDDEN:
        assert char not in output, f"{char!r} reached the terminal"
    for sequence in PAYLOAD_SEQUENCES:
        assert sequence not in output, f"{sequence!r} reached the terminal"
    # Textual's own OSC use here is pointer shapes (OSC 22); anything else came from an event.
    for match in re.finditer("\x1b\\]", output):
        assert output.startswith("\x1b]22;", match.start()), output[match.start() : match.start() + 40]
    without_osc22 = re.sub("\x1b\\]22;[a-z-]*\x07", "", output)
    assert "\x07" not in without_osc22


def _hostile_lines() -> bytes:
    events: list[dict[str, Any]] = [
        {
            "message": message,
            "category": "hostile",
            "userId": "[b]u[/b]\x1b[31m",
            "sessionId": "s\x9b1",
            "userMessage": "saw \x1b]0;UM\x07 [red]this[/]",
            "details": {"k\x1b]0;KEY\x07": "v\u202ex", "markup": "[@click=app.quit]y[/]", "n": n},
        }
        for n, message in enumerate(HOSTILE_MESSAGES)
    ]
    return b"".join(json.dumps(event).encode() + b"\n" for event in events)


async def test_hostile_strings_render_literally_and_never_reach_the_terminal(engine: Engine) -> None:
    RecordingDriver.output = []
    await send_lines(tcp_port(engine), _hostile_lines())
    app = RecordingApp(engine)
    async with app.run_test(headless=False, size=(200, 40)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"hostile"})))
        await until(pilot, lambda: len(stream.window) == len(HOSTILE_MESSAGES))
        await pilot.pause()
        await until(pilot, lambda: "FAKE" in _terminal_output())

        screen_lines = ["".join(s.text for s in stream.render_line(y)) for y in range(stream.size.height)]
        screen_text = "\n".join(screen_lines)
        for message in HOSTILE_MESSAGES:
            assert safe_text(message) in screen_text, message
        assert all(is_safe(line) for line in screen_lines)
        assert "␛]0;PWNED-TITLE␇" in screen_text
        assert "⟨U+009B⟩31mC1RED" in screen_text
        assert "⟨U+202E⟩evil" in screen_text
        assert "[b]u[/b]␛[31m" in screen_text  # the user column, literally

        output = _terminal_output()
        assert "[@click=app.quit]x[/]" in output
        assert "[bold red]FAKE[/]" in output
        assert "␛]0;PWNED-TITLE␇" in output
        _assert_inert(output)
        assert app.is_running  # the click markup did nothing

        # The detail view of the worst one: every field, details and userMessage.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await pilot.pause()
        details = app.screen.query_one(TextLines)
        # JSON escapes C0 controls itself; bidi and C1 characters are left raw by JSON and sanitized here.
        assert any("\\u001b]0;KEY\\u0007" in line for line in details.lines)
        assert any("⟨U+202E⟩" in line for line in details.lines)
        await until(pilot, lambda: "saw ␛]0;UM␇ [red]this[/]" in _terminal_output())
        _assert_inert(_terminal_output())
        assert app.is_running


async def test_huge_message_and_huge_details_stay_responsive(engine: Engine) -> None:
    huge_details = {f"key{n:05d}": n for n in range(10_000)}
    event = {"message": "M" * 100_000, "category": "huge", "details": huge_details, "userMessage": "U" * 5000}
    await send_lines(tcp_port(engine), json.dumps(event).encode() + b"\n")
    app = StreamApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"huge"})))
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.pause()
        row = "".join(s.text for s in stream.render_line(0))
        assert "MMMM" in row
        assert len(row) == stream.size.width
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await pilot.pause()
        details = app.screen.query_one(TextLines)
        assert len(details.lines) == 10_002  # braces + one line per key
        details.focus()
        await pilot.press("end")
        await until(pilot, lambda: details.scroll_y > 0 and details.scroll_y == details.max_scroll_y)
        await pilot.press("pagedown", "home")
        await until(pilot, lambda: details.scroll_y == 0)  # the whole 10,000 lines scroll by keyboard
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not None and not isinstance(app.screen, EventDetailScreen))
        assert app.detail_results == [None]
