"""The event detail screen: every field, pretty details, copy as JSON, filter to user/session."""

from __future__ import annotations

import json
from typing import Any

from textual.widgets import Static

from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.text_lines import TextLines
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import StreamApp, until

EVENT: dict[str, Any] = {
    "message": "Payment 4200 cents failed: card_declined",
    "category": "payment",
    "type": "error",
    "userId": "user_0042",
    "sessionId": "sess_00007",
    "url": "http://localhost:3000/checkout",
    "userAgent": "Mozilla/5.0 test",
    "showToUser": True,
    "userMessage": "Your payment could not be processed.",
    "details": {"orderId": 7, "amount": 4200, "card": {"brand": "visa", "last4": "4242"}},
    "id": "evt-detail-1",
}


async def _open(engine: Engine, pilot: Any, app: StreamApp, event: dict[str, Any]) -> EventDetailScreen:
    await send_lines(tcp_port(engine), json.dumps(event).encode() + b"\n")
    stream = app.query_one(StreamView)
    await stream.set_filter(EventFilter(categories=frozenset({event["category"]})))
    await until(pilot, lambda: len(stream.window) == 1)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
    await pilot.pause()
    assert isinstance(app.screen, EventDetailScreen)
    return app.screen


def _text(screen: EventDetailScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).visual)


async def test_detail_shows_every_field_and_the_user_facing_message(engine: Engine) -> None:
    app = StreamApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _open(engine, pilot, app, EVENT)
        fields = _text(screen, "#detail-fields")
        for value in (
            "user_0042",
            "sess_00007",
            "http://localhost:3000/checkout",
            "Mozilla/5.0 test",
            "evt-detail-1",
            "payment",
            "error",
            "true",
        ):
            assert value in fields
        assert screen.event.fingerprint is not None
        assert screen.event.fingerprint in fields
        assert _text(screen, "#detail-message") == EVENT["message"]
        assert _text(screen, "#detail-user-message") == EVENT["userMessage"]
        details = screen.query_one("#detail-json", TextLines)
        assert details.lines[0] == "{"
        assert '    "brand": "visa",' in details.lines  # pretty-printed, nested, sorted keys
        assert details.lines[1] == '  "amount": 4200,'
        # Highlighted: a key line renders in more than one style.
        strip = details.render_line(1)
        assert len({segment.style for segment in strip if segment.text.strip()}) > 1


async def test_copy_as_json_puts_the_wire_event_on_the_clipboard(engine: Engine) -> None:
    app = StreamApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _open(engine, pilot, app, EVENT)
        await pilot.press("c")
        copied = json.loads(app.clipboard)
        assert copied == screen.event.to_wire()
        assert copied["details"]["card"]["last4"] == "4242"
        assert copied["userMessage"] == EVENT["userMessage"]


async def test_filter_to_user_and_session_dismiss_with_a_result(engine: Engine) -> None:
    app = StreamApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await _open(engine, pilot, app, EVENT)
        await pilot.press("u")
        await until(pilot, lambda: app.detail_results == [{"user": "user_0042"}])
        assert not isinstance(app.screen, EventDetailScreen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await pilot.press("s")
        await until(pilot, lambda: app.detail_results[-1] == {"session": "sess_00007"})
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.detail_results[-1] is None)


async def test_no_user_no_session_means_no_such_filter(engine: Engine) -> None:
    app = StreamApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _open(engine, pilot, app, {"message": "anonymous", "category": "anon"})
        assert screen.check_action("filter_user", ()) is False
        assert screen.check_action("filter_session", ()) is False
        await pilot.press("u", "s")
        assert isinstance(app.screen, EventDetailScreen)
        assert "nothing was shown" in _text(screen, "#detail-user-message")
        assert screen.query_one(TextLines).lines == ["(no details)"]
