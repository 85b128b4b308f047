"""The stream over a real engine: follow, pause and resume, paging history, filters, opening."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from sidelog.engine import Engine, Subscription
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets import stream as stream_module
from sidelog.tui.widgets import stream_history
from sidelog.tui.widgets.stream import StreamView
from tests.conftest import send_lines, tcp_port


class StreamApp(App[None]):
    """The stream alone over a started engine, fed by a live subscription like the real app."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.selected: list[Event] = []
        self.follow_changes: list[tuple[bool, int]] = []
        self.detail_results: list[Any] = []
        self._subscription: Subscription | None = None

    def compose(self) -> ComposeResult:
        yield StreamView(self.engine, id="stream")

    def on_mount(self) -> None:
        self._subscription = self.engine.subscribe()
        self.run_worker(self._pump(), name="test-pump", group="test-pump")
        self.query_one(StreamView).focus()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    async def _pump(self) -> None:
        assert self._subscription is not None
        stream = self.query_one(StreamView)
        async for batch in self._subscription:
            stream.add_batch(batch)

    def on_stream_view_event_selected(self, message: StreamView.EventSelected) -> None:
        self.selected.append(message.event)
        self.push_screen(EventDetailScreen(message.event), self.detail_results.append)

    def on_stream_view_follow_changed(self, message: StreamView.FollowChanged) -> None:
        self.follow_changes.append((message.following, message.new_since_pause))


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` while the app runs; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


def lines(count: int, start: int = 0, **fields: Any) -> bytes:
    """``count`` NDJSON events ``msg <n>`` with extra ``fields``."""
    return b"".join(
        json.dumps({"message": f"msg {n}", "category": "test", **fields}).encode() + b"\n"
        for n in range(start, start + count)
    )


def test_messages(stream: StreamView) -> list[str]:
    """Messages of the test events in the window, oldest first."""
    return [event.message for event in stream.window if event.category == "test"]


test_messages.__test__ = False  # type: ignore[attr-defined]


async def test_shows_history_then_follows_live_events(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(30))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 30)
        assert stream.following
        await send_lines(port, lines(5, start=30))
        await wait_until(pilot, lambda: len(test_messages(stream)) == 35)
        assert test_messages(stream)[-1] == "msg 34"
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 34"
        assert stream.scroll_y == stream.max_scroll_y > 0
        await pilot.pause()
        assert stream.painted_at > 0
        row = "".join(segment.text for segment in stream.render_line(stream.size.height - 1))
        assert "msg 34" in row
        assert "INFO" in row
        assert "test" in row


async def test_scrolling_up_pauses_counts_and_end_resumes(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(60))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 60)
        await pilot.press("up", "up", "up")
        assert not stream.following
        assert stream.has_class("-paused")
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 56"
        await send_lines(port, lines(7, start=60))
        await wait_until(pilot, lambda: stream.new_since_pause == 7)
        # Paused: the highlighted event stays put while new ones arrive below.
        assert stream.cursor_event.message == "msg 56"
        await wait_until(pilot, lambda: app.follow_changes[-1] == (False, 7))
        await pilot.press("end")
        assert stream.following
        assert stream.new_since_pause == 0
        assert stream.cursor_event.message == "msg 66"
        assert stream.scroll_y == stream.max_scroll_y
        await pilot.press("up")
        await pilot.press("f")
        assert stream.following


async def test_mouse_wheel_up_pauses(engine: Engine) -> None:
    await send_lines(tcp_port(engine), lines(80))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 80)
        stream.post_message(events.MouseScrollUp(stream, 5, 5, 0, -1, 0, False, False, False))
        await wait_until(pilot, lambda: not stream.following)
        assert not stream.following
        assert stream.scroll_y < stream.max_scroll_y


async def test_pages_back_through_thousands_of_stored_events(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages and window so a few thousand events cross many page and window edges.
    monkeypatch.setattr(stream_module, "FIRST_PAGE", 50)
    monkeypatch.setattr(stream_history, "PAGE_SIZE", 200)
    monkeypatch.setattr(stream_module, "WINDOW_MAX", 600)
    monkeypatch.setattr(stream_history, "PREFETCH_ROWS", 40)
    port = tcp_port(engine)
    await send_lines(port, lines(3000))
    ids = [event.id for event in await engine.events(EventFilter(categories=frozenset({"test"})), limit=5000)]
    newest, oldest = ids[0], ids[-1]
    app = StreamApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: stream.cursor_event is not None and stream.cursor_event.id == newest)
        seen: list[int] = []
        await pilot.press("pageup")  # once through the key binding, then the action directly (fast)
        for _ in range(400):
            stream.action_page_up()
            await wait_until(pilot, lambda: not stream._loading_older)
            event = stream.cursor_event
            assert event is not None
            assert event.id is not None
            seen.append(event.id)
            window_ids = [e.id for e in stream.window]
            assert len(window_ids) <= 600
            assert window_ids == sorted(window_ids)
            assert window_ids == list(range(window_ids[0], window_ids[0] + len(window_ids)))
            if event.id == oldest - 1:  # the "sidelog started" system event precedes the test events
                break
        assert seen[-1] == oldest - 1, "never reached the oldest stored event"
        assert seen == sorted(seen, reverse=True)
        assert stream._window.detached
        # And back down: the dropped newer end is fetched again by id cursor.
        for _ in range(400):
            stream.action_page_down()
            await wait_until(pilot, lambda: not stream._loading_newer)
            if stream.cursor_event is not None and stream.cursor_event.id == newest:
                break
        assert stream.cursor_event is not None
        assert stream.cursor_event.id == newest
        assert not stream._window.detached


async def test_paused_full_window_detaches_and_resume_reloads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "WINDOW_MAX", 100)
    port = tcp_port(engine)
    await send_lines(port, lines(50))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 50)
        await pilot.press("up")
        await send_lines(port, lines(200, start=50))
        await wait_until(pilot, lambda: stream.new_since_pause == 200)
        assert len(stream.window) == 100
        await pilot.press("f")
        await wait_until(pilot, lambda: stream.following and test_messages(stream)[-1] == "msg 249")
        assert stream.new_since_pause == 0


async def test_filter_applies_to_history_and_live_events(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(20, level="info") + lines(5, start=100, level="error", userId="ann"))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 25)
        await stream.set_filter(EventFilter(levels=frozenset({"error"}), categories=frozenset({"test"})))
        assert [e.message for e in stream.window] == [f"msg {n}" for n in range(100, 105)]
        assert stream.following
        await send_lines(port, lines(3, start=200, level="info") + lines(2, start=300, level="error"))
        await wait_until(pilot, lambda: len(stream.window) == 7)
        assert all(e.level == "error" for e in stream.window)
        await stream.set_filter(EventFilter(user="ann"))
        assert len(stream.window) == 5
        await stream.set_filter(EventFilter(q="no such text"))
        assert stream.window == []
        assert stream.cursor_event is None
        await pilot.press("up", "enter", "pagedown")  # keys on an empty stream are harmless


async def test_home_jumps_to_the_oldest_event(engine: Engine) -> None:
    await send_lines(tcp_port(engine), lines(500))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) > 0)
        await pilot.press("home")
        await wait_until(pilot, lambda: stream.cursor_event is not None and stream.cursor_event.id == 1)
        assert not stream.following
        assert stream.scroll_y == 0


async def test_enter_posts_the_full_stored_event(engine: Engine) -> None:
    long_message = "x" * 50_000
    await send_lines(
        tcp_port(engine), json.dumps({"message": long_message, "category": "test"}).encode() + b"\n"
    )
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(test_messages(stream)) == 1)
        # The window keeps a bounded copy; opening fetches the whole event by id.
        assert len(stream.window[-1].message) < 50_000
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.selected) == 1)
        assert app.selected[0].message == long_message
        assert isinstance(app.screen, EventDetailScreen)


async def test_moves_past_the_window_top_finish_when_the_older_page_arrives(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "FIRST_PAGE", 50)
    monkeypatch.setattr(stream_history, "PREFETCH_ROWS", 0)
    await send_lines(tcp_port(engine), lines(400))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await wait_until(pilot, lambda: len(stream.window) == 50)
        newest = stream.cursor_event
        assert newest is not None
        assert newest.id is not None
        page = stream.size.height - 1
        for _ in range(5):  # faster than the store answers: no move may be lost
            stream.action_page_up()
        await wait_until(pilot, lambda: not stream._loading_older and stream._owed_up == 0)
        assert stream.cursor_event is not None
        assert stream.cursor_event.id == newest.id - 5 * page


async def test_a_flood_while_following_keeps_only_the_newest_window(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "WINDOW_MAX", 100)
    port = tcp_port(engine)
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"test"})))  # no system events
        await send_lines(port, lines(1000))
        await wait_until(pilot, lambda: test_messages(stream)[-1:] == ["msg 999"])
        assert test_messages(stream) == [f"msg {n}" for n in range(900, 1000)]
        assert stream.following
        assert stream._window.has_older
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 999"
        # And history below the window is still reachable.
        await pilot.press("pageup")
        for _ in range(20):
            stream.action_page_up()
        await wait_until(pilot, lambda: not stream._loading_older)
        assert stream.cursor_event.message in {f"msg {n}" for n in range(900)}
