"""The stream's window bookkeeping: bounded, ordered, and honest about what lies beyond."""

from __future__ import annotations

from sidelog.events import Event
from sidelog.tui.widgets.stream_window import EventWindow


def _events(first: int, count: int) -> list[Event]:
    return [Event(message=f"m{n}", id=n) for n in range(first, first + count)]


def _ids(window: EventWindow) -> list[int | None]:
    return [event.id for event in window.events()]


def test_following_appends_drop_the_oldest_past_the_limit() -> None:
    window = EventWindow(limit=10)
    window.replace(_events(1, 8), has_older=False, detached=False)
    assert window.append_following(_events(9, 5)) == 3
    assert _ids(window) == list(range(4, 14))
    assert window.has_older
    # A flood larger than the window keeps only its newest events.
    assert window.append_following(_events(14, 25)) == 25
    assert _ids(window) == list(range(29, 39))


def test_paused_appends_never_move_the_view_but_detach_when_full() -> None:
    window = EventWindow(limit=10)
    window.replace(_events(1, 8), has_older=True, detached=False)
    window.append_paused(_events(9, 5))
    assert _ids(window) == list(range(1, 11))
    assert window.detached
    window.append_paused(_events(14, 1))
    assert len(window) == 10


def test_older_and_newer_pages_keep_ids_contiguous() -> None:
    window = EventWindow(limit=10)
    window.replace(_events(21, 6), has_older=True, detached=False)
    added, dropped = window.prepend_older(_events(15, 6), full=True)
    assert (added, dropped) == (6, 2)
    assert _ids(window) == list(range(15, 25))
    assert window.detached
    assert window.oldest_id() == 15
    assert window.newest_id() == 24
    assert window.extend_newer(_events(25, 2), full=False) == 2
    assert _ids(window) == list(range(17, 27))
    assert not window.detached


def test_row_keys_are_never_reused() -> None:
    window = EventWindow(limit=5)
    window.replace(_events(1, 5), has_older=False, detached=False)
    first = {row.key for row in window.rows}
    window.replace(_events(1, 5), has_older=False, detached=False)
    assert first.isdisjoint(row.key for row in window.rows)
