"""The detail view of an error with a real Python traceback, as a snapshot.

The traceback is raised and formatted by Python itself; the code runs under a fixed file
name (its source registered in ``linecache``) so the snapshot does not depend on where
the repository is checked out. Times are fixed and shown in UTC. Update after a
deliberate visual change with ``--snapshot-update`` and look at the SVG.
"""

from __future__ import annotations

import json
import linecache
import time
import traceback
from collections.abc import Callable, Iterator

import pytest
from textual.app import App

from sidelog.events import Event
from sidelog.tui.screens.detail import EventDetailScreen

LIBRARY = "/srv/shop/.venv/lib/python3.11/site-packages/cartlib/parse.py"
LIBRARY_SOURCE = """\
def parse(raw):
    return int(raw)
"""
SOURCE = """\
def load_cart(raw):
    return parse(raw)


def checkout(raw):
    try:
        cart = load_cart(raw)
    except ValueError as exc:
        raise RuntimeError("cart could not be read") from exc
    return cart


checkout("{not json")
"""
FILE = "/srv/shop/checkout.py"
T0 = 1_764_237_600_123  # 2025-11-27 10:00:00.123 UTC


def _run(source: str, file: str, namespace: dict[str, object]) -> None:
    linecache.cache[file] = (len(source), None, source.splitlines(keepends=True), file)
    exec(compile(source, file, "exec"), namespace)


def _traceback() -> str:
    library: dict[str, object] = {"__name__": "cartlib.parse"}
    _run(LIBRARY_SOURCE, LIBRARY, library)
    with pytest.raises(RuntimeError) as raised:
        _run(SOURCE, FILE, {"__name__": "checkout", "parse": library["parse"]})
    exc = raised.value
    outer = exc.__traceback__
    while outer is not None and outer.tb_frame.f_code.co_filename != FILE:
        outer = outer.tb_next  # from the shop's module down: this file's frames are not the story
    return "".join(traceback.format_exception(type(exc), exc, outer))


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in UTC whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class DetailApp(App[None]):
    """The detail screen over one event."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def on_mount(self) -> None:
        self.push_screen(EventDetailScreen(self.event))


def test_detail_view_with_a_python_traceback(snap_compare: Callable[..., bool], utc: None) -> None:
    stack = _traceback()
    assert 'File "/srv/shop/checkout.py", line 7, in checkout' in stack
    assert "site-packages/cartlib/parse.py" in stack  # a library frame, to be dimmed
    details = {
        "exception": {"type": "RuntimeError", "message": "cart could not be read", "stack": stack},
        "cart": {"items": 3},
    }
    event = Event(
        message="RuntimeError: cart could not be read",
        category="checkout",
        level="error",
        details=json.dumps(details),
        user_id="user_0042",
        session_id="sess_00007",
        url="http://localhost:3000/checkout",
        timestamp=T0,
        received_at=T0 + 840,
        user_message="Something went wrong with your cart. Please try again.",
        show_to_user=True,
        id=1234,
    )
    assert snap_compare(DetailApp(event), terminal_size=(120, 48))
