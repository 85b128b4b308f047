"""The detail view's stack, details, breadcrumbs and times, driven by keys under ``run_test``.

Stacks are real: a Python traceback raised and formatted here, a Node stack from
``node -e``, a Sentry event read by the real Sentry receiver code. Hostile and huge
stacks must open and show their first frames safely (time is measured elsewhere, not
asserted here).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import traceback
from typing import Any

import pytest
from rich.style import Style
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from sidelog.engine import Engine
from sidelog.events import DEFAULT_LIMITS, Event
from sidelog.filters import EventFilter
from sidelog.ingest.sentry_items import ItemContext, event_from_sentry
from sidelog.textsafe import is_safe
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets.breadcrumbs import BreadcrumbView
from sidelog.tui.widgets.stack_view import StackView
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.text_lines import TextLines
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import StreamApp, until

T0 = 1_764_237_600_123


class DetailApp(App[None]):
    """Just the detail screen over one event."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(EventDetailScreen(self.event), self.results.append)


def _event(stack: Any, **details: Any) -> Event:
    exception = {"type": "RuntimeError", "message": "wrapped", "stack": stack}
    return Event(
        message="RuntimeError: wrapped",
        category="payment",
        level="error",
        details=json.dumps({"exception": exception, **details}),
        timestamp=T0,
        received_at=T0 + 1333,
    )


async def _screen(pilot: Pilot[Any]) -> EventDetailScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, EventDetailScreen))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, EventDetailScreen)
    return screen


def _python_traceback(library: bool = False) -> str:
    """A real chained traceback; ``library`` appends a frame from an installed package."""

    def inner() -> None:
        if library:
            json.loads("{not json")
        raise ValueError("card declined")

    def outer() -> None:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc

    try:
        outer()
    except RuntimeError as exc:
        return "".join(traceback.format_exception(exc))
    raise AssertionError("outer() did not raise")


def _row_styles(view: StackView, needle: str) -> set[Style]:
    for y in range(view.size.height):
        strip = view.render_line(y)
        if needle in "".join(segment.text for segment in strip):
            return {segment.style for segment in strip if segment.text.strip() and segment.style}
    raise AssertionError(f"{needle!r} is not on screen")


def _colours(view: StackView, needle: str) -> set[object]:
    return {style.color for style in _row_styles(view, needle)}


def _dimmed(view: StackView, library: str, app: str) -> bool:
    """The library line is drawn in one colour the app's own line does not use at all."""
    dim = _colours(view, library)
    return len(dim) == 1 and not dim & _colours(view, app)


async def test_a_real_python_traceback_from_the_stream(engine: Engine) -> None:
    stack = _python_traceback()
    event: dict[str, Any] = {"message": "RuntimeError: wrapped", "category": "pay", "type": "error"}
    event["details"] = {"exception": {"type": "RuntimeError", "message": "wrapped", "stack": stack}}
    await send_lines(tcp_port(engine), json.dumps(event).encode() + b"\n")
    app = StreamApp(engine)
    async with app.run_test(size=(140, 50)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"pay"})))
        await until(pilot, lambda: len(stream.window) == 1)
        await pilot.press("enter")
        screen = await _screen(pilot)
        view = screen.query_one(StackView)
        assert screen.view_shown == "detail-stack"
        assert view.has_focus
        rows = view.rows_text()
        assert rows[0].startswith("Traceback (most recent call last):")
        assert any(f'File "{__file__}"' in row and "in outer" in row for row in rows)
        assert any("card declined" in row for row in rows)
        # One section per exception, the chain sentence between them set apart.
        chain = _row_styles(view, "direct cause")
        assert any(style.bgcolor is not None and style.bold for style in chain)
        assert any(style.bold for style in _row_styles(view, "RuntimeError: wrapped"))
        # A frame: its file, line number and function in styles of their own.
        assert len(_row_styles(view, "in outer")) >= 3


async def test_library_frames_are_dimmed_and_can_be_hidden() -> None:
    app = DetailApp(_event(_python_traceback(library=True)))
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await _screen(pilot)
        view = screen.query_one(StackView)
        assert _dimmed(view, "json/decoder.py", "in inner")
        all_lines = view.entries_shown
        await pilot.press("a")
        await until(pilot, lambda: view.entries_shown < all_lines)
        rows = view.rows_text()
        assert not any("json/decoder.py" in row or "json/__init__.py" in row for row in rows)
        assert any("library frames hidden" in row for row in rows)
        assert any("in inner" in row for row in rows)
        assert "app frames only" in str(view.border_title)
        await pilot.press("a")
        await until(pilot, lambda: view.entries_shown == all_lines)
        assert any("json/decoder.py" in row for row in view.rows_text())


def _node_stack() -> str:
    """A real Node error with a cause, as ``util.inspect`` prints it (what loggers write)."""
    script = (
        "function charge(){ throw new Error('declined', {cause: new TypeError('bad card')}) }"
        "try { charge() } catch (e) { console.log(require('util').inspect(e)) }"
    )
    run = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    return run.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: no real Node stack")
async def test_a_real_node_stack() -> None:
    app = DetailApp(_event(_node_stack()))
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await _screen(pilot)
        view = screen.query_one(StackView)
        rows = view.rows_text()
        assert rows[0].startswith("Error: declined")
        assert _dimmed(view, "node:internal", "at charge")
        assert any(style.bgcolor is not None for style in _row_styles(view, "[cause]: TypeError"))
        await pilot.press("a")
        await until(pilot, lambda: any("library frames hidden" in row for row in view.rows_text()))
        assert not any("node:internal" in row for row in view.rows_text())


async def test_a_sentry_frame_list_marks_its_app_frames() -> None:
    doc = {
        "event_id": "a" * 32,
        "level": "error",
        "timestamp": T0 / 1000,
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'card'",
                    "stacktrace": {
                        "frames": [
                            {"filename": "django/core/handlers.py", "lineno": 55, "function": "inner"},
                            {
                                "abs_path": "/srv/shop/views.py",
                                "lineno": 42,
                                "function": "pay",
                                "in_app": True,
                            },
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"timestamp": T0 / 1000 - 2, "category": "http", "message": "POST /pay", "level": "info"},
                {
                    "timestamp": T0 / 1000 - 1,
                    "category": "query",
                    "message": "SELECT card",
                    "level": "warning",
                },
            ]
        },
    }
    event = event_from_sentry(doc, ItemContext(limits=DEFAULT_LIMITS, received_at=T0 + 50))
    app = DetailApp(event)
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await _screen(pilot)
        view = screen.query_one(StackView)
        assert view.stack.marked
        assert _dimmed(view, "django/core/handlers.py", "in pay")
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: screen.view_shown == "detail-crumbs")
        crumbs = screen.query_one(BreadcrumbView)
        await until(pilot, lambda: crumbs.has_focus)
        rows = crumbs.rows_text()
        assert "POST /pay" in rows[0]
        assert "-2.0s" in rows[0]
        assert "SELECT card" in rows[1]
        assert "WARNING" in rows[1]
        assert "KeyError: 'card'" in rows[2]
        assert "this event" in rows[2]


async def test_details_tab_times_wrap_and_keyboard_scrolling() -> None:
    long_frame = '  File "/app/' + "deep/" * 1000 + 'x.py", line 1, in f'
    stack = "Traceback (most recent call last):\n" + "\n".join([long_frame] * 200) + "\nValueError: x\n"
    app = DetailApp(_event(stack, orderId=7))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _screen(pilot)
        fields = str(screen.query_one("#detail-fields", Static).visual)
        assert "time" in fields
        assert "received" in fields
        assert "1.333s after its time" in fields  # the event's own time vs when sidelog got it
        view = screen.query_one(StackView)
        await pilot.press("pagedown")
        await until(pilot, lambda: view.scroll_y > 0)
        await pilot.press("end")
        await until(
            pilot, lambda: view.rows_text()[-1].strip() != "" and "ValueError" in "".join(view.rows_text())
        )
        await pilot.press("home", "right", "right")
        await until(pilot, lambda: view.scroll_x > 0)  # a long line scrolls sideways…
        await pilot.press("w")
        await until(pilot, lambda: view.wrap)
        assert view.virtual_size.width <= view.size.width
        assert view.virtual_size.height > 200  # …or wraps onto the next rows
        rows = view.rows_text()
        assert rows[1].startswith('  File "/app/deep/')
        assert rows[2].rstrip() in long_frame  # the same line, continued
        await pilot.press("right_square_bracket")
        details = screen.query_one("#detail-json", TextLines)
        await until(pilot, lambda: details.has_focus and details.lines[0] == "{")
        assert details.wrap  # the toggle applies to every view
        assert '  "orderId": 7' in details.lines
        await pilot.press("escape")
        await until(pilot, lambda: app.results == [None])


async def test_hostile_stack_text_is_shown_literally_and_inert() -> None:
    stack = (
        "Traceback (most recent call last):\n"
        '  File "/app/[bold red]fake[/].py", line 3, in [@click=app.quit]x[/]\n'
        '  File "/app/\x1b]0;PWNED\x07.py", line 4, in f\u202eevil\n'
        "    at \x9b31m (/app/\u2066a.js:1:2)\n"
        "ValueError: \x1b[2J boom\n"
    )
    app = DetailApp(_event(stack))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _screen(pilot)
        rows = screen.query_one(StackView).rows_text()
        text = "\n".join(rows)
        assert all(is_safe(row) for row in rows)
        assert '"/app/[bold red]fake[/].py", line 3, in [@click=app.quit]x[/]' in text
        assert "␛]0;PWNED␇" in text
        assert "⟨U+202E⟩evil" in text
        assert "⟨U+009B⟩31m" in text
        await pilot.press("w", "a")
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize(
    "stack",
    [
        "Error: deep\n" + "".join(f"    at f{i} (/app/src/m{i}.js:{i + 1}:3)\n" for i in range(100_000)),
        "Error: x " + "at a (http://x.example/y.js:1:2) " * 32_000,  # ~1 MB on one line
    ],
    ids=["100k-frames", "1mb-line"],
)
async def test_huge_stacks_open_and_show_their_first_frames(stack: str) -> None:
    app = DetailApp(_event(stack))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _screen(pilot)
        view = screen.query_one(StackView)
        rows = view.rows_text()
        assert rows[0].startswith("Error:")
        if "\n" in stack:
            assert rows[1].strip() == "at f0 (/app/src/m0.js:1:3)"
            await pilot.press("end")
            await until(pilot, lambda: any("at f99999 " in row for row in view.rows_text()))
        else:
            assert view.entries_shown == 1
            await pilot.press("w")
            await until(pilot, lambda: "more characters" in "".join(view.rows_text()[:20]) or view.wrap)
            await pilot.press("end")
            await until(
                pilot, lambda: any("more characters: copy as JSON" in row for row in view.rows_text())
            )
