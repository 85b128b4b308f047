"""The stream over a real engine: follow, pause and resume, paging history, filters, opening."""

from __future__ import annotations

import json

from textual import events

from sidelog.engine import Engine
from sidelog.filters import EventFilter
from sidelog.tui.screens.detail import EventDetailScreen
from sidelog.tui.widgets.stream import StreamView
from sidelog.tui.widgets.stream_history import PageSizes
from tests.conftest import send_lines, tcp_port
from tests.tui.conftest import StreamApp, lines, messages_of_tests, until


async def test_shows_history_then_follows_live_events(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(30))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(messages_of_tests(stream)) == 30)
        assert stream.following
        await send_lines(port, lines(5, start=30))
        await until(pilot, lambda: len(messages_of_tests(stream)) == 35)
        assert messages_of_tests(stream)[-1] == "msg 34"
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 34"
        assert stream.scroll_y == stream.max_scroll_y > 0
        await pilot.pause()
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
        await until(pilot, lambda: len(messages_of_tests(stream)) == 60)
        await pilot.press("up", "up", "up")
        assert not stream.following
        await until(pilot, lambda: app.follow_changes[-1] == (False, 0))
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 56"
        await send_lines(port, lines(7, start=60))
        await until(pilot, lambda: stream.new_since_pause == 7)
        # Paused: the highlighted event stays put while new ones arrive below.
        assert stream.cursor_event.message == "msg 56"
        await until(pilot, lambda: app.follow_changes[-1] == (False, 7))
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
        await until(pilot, lambda: len(messages_of_tests(stream)) == 80)
        stream.post_message(events.MouseScrollUp(stream, 5, 5, 0, -1, 0, False, False, False))
        await until(pilot, lambda: not stream.following)
        assert not stream.following
        assert stream.scroll_y < stream.max_scroll_y


async def test_pages_back_through_thousands_of_stored_events(engine: Engine) -> None:
    # Small pages and window so a few thousand events cross many page and window edges.
    sizes = PageSizes(first=50, page=200, window=600, prefetch=40)
    port = tcp_port(engine)
    await send_lines(port, lines(3000))
    ids = [event.id for event in await engine.events(EventFilter(categories=frozenset({"test"})), limit=5000)]
    newest, oldest = ids[0], ids[-1]
    app = StreamApp(engine, sizes=sizes)
    async with app.run_test(size=(120, 30)) as pilot:
        stream = app.query_one(StreamView)
        await until(pilot, lambda: stream.cursor_event is not None and stream.cursor_event.id == newest)
        seen: list[int] = []
        await pilot.press("pageup")  # once through the key binding, then the action directly (fast)
        for _ in range(400):
            stream.action_page_up()
            await until(pilot, lambda: not stream.paging)
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
        assert stream.pager.detached
        # And back down: the dropped newer end is fetched again by id cursor.
        for _ in range(400):
            stream.action_page_down()
            await until(pilot, lambda: not stream.paging)
            if stream.cursor_event is not None and stream.cursor_event.id == newest:
                break
        assert stream.cursor_event is not None
        assert stream.cursor_event.id == newest
        assert not stream.pager.detached


async def test_paused_full_window_detaches_and_resume_reloads(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(50))
    app = StreamApp(engine, sizes=PageSizes(window=100))
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(messages_of_tests(stream)) == 50)
        await pilot.press("up")
        await send_lines(port, lines(200, start=50))
        await until(pilot, lambda: stream.new_since_pause == 200)
        assert len(stream.window) == 100
        await pilot.press("f")
        await until(pilot, lambda: stream.following and messages_of_tests(stream)[-1] == "msg 249")
        assert stream.new_since_pause == 0


async def test_filter_applies_to_history_and_live_events(engine: Engine) -> None:
    port = tcp_port(engine)
    await send_lines(port, lines(20, level="info") + lines(5, start=100, level="error", userId="ann"))
    app = StreamApp(engine)
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(messages_of_tests(stream)) == 25)
        await stream.set_filter(EventFilter(levels=frozenset({"error"}), categories=frozenset({"test"})))
        assert [e.message for e in stream.window] == [f"msg {n}" for n in range(100, 105)]
        assert stream.following
        await send_lines(port, lines(3, start=200, level="info") + lines(2, start=300, level="error"))
        await until(pilot, lambda: len(stream.window) == 7)
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
        await until(pilot, lambda: len(messages_of_tests(stream)) > 0)
        await pilot.press("home")
        await until(pilot, lambda: stream.cursor_event is not None and stream.cursor_event.id == 1)
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
        await until(pilot, lambda: len(messages_of_tests(stream)) == 1)
        # The window keeps a bounded copy; opening fetches the whole event by id.
        assert len(stream.window[-1].message) < 50_000
        await pilot.press("enter")
        await until(pilot, lambda: len(app.selected) == 1)
        assert app.selected[0].message == long_message
        assert isinstance(app.screen, EventDetailScreen)


async def test_moves_past_the_window_top_finish_when_the_older_page_arrives(engine: Engine) -> None:
    await send_lines(tcp_port(engine), lines(400))
    app = StreamApp(engine, sizes=PageSizes(first=50, prefetch=0))
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await until(pilot, lambda: len(stream.window) == 50)
        newest = stream.cursor_event
        assert newest is not None
        assert newest.id is not None
        page = stream.size.height - 1
        for _ in range(5):  # faster than the store answers: no move may be lost
            stream.action_page_up()
        await until(pilot, lambda: not stream.paging)
        assert stream.cursor_event is not None
        assert stream.cursor_event.id == newest.id - 5 * page


async def test_a_flood_while_following_keeps_only_the_newest_window(engine: Engine) -> None:
    port = tcp_port(engine)
    app = StreamApp(engine, sizes=PageSizes(window=100))
    async with app.run_test(size=(120, 20)) as pilot:
        stream = app.query_one(StreamView)
        await stream.set_filter(EventFilter(categories=frozenset({"test"})))  # no system events
        await send_lines(port, lines(1000))
        await until(pilot, lambda: messages_of_tests(stream)[-1:] == ["msg 999"])
        assert messages_of_tests(stream) == [f"msg {n}" for n in range(900, 1000)]
        assert stream.following
        assert stream.pager.has_older
        assert stream.cursor_event is not None
        assert stream.cursor_event.message == "msg 999"
        # And history below the window is still reachable.
        await pilot.press("pageup")
        for _ in range(20):
            stream.action_page_up()
        await until(pilot, lambda: not stream.paging)
        assert stream.cursor_event.message in {f"msg {n}" for n in range(900)}
