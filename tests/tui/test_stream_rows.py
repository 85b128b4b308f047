"""Stream rows: exact width at every pane size, columns dropped in order, nothing unsafe."""

from __future__ import annotations

import pytest
from rich.style import Style

from sidelog.events import Event
from sidelog.textsafe import is_safe
from sidelog.tui.widgets.stream_rows import COMPONENTS, KEEP_CHARS, fit, render_row, slim

STYLES = {name: Style(color="red" if name == "error" else "blue") for name in COMPONENTS} | {
    "base": Style(),
    "cursor": Style(reverse=True),
}


def _event(**fields: object) -> Event:
    values: dict[str, object] = {
        "message": "Payment 4200 cents failed",
        "category": "payment",
        "level": "error",
        "source": "server",
        "user_id": "user_0042",
        "timestamp": 1_700_000_000_123,
    }
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [40, 59, 60, 79, 80, 99, 100, 160])
def test_a_row_fills_exactly_the_pane_width(width: int) -> None:
    strip = render_row(_event(), width, STYLES, selected=False)
    assert strip.cell_length == width
    text = "".join(segment.text for segment in strip)
    assert "ERROR" in text


def test_columns_drop_as_the_pane_narrows() -> None:
    def text(width: int) -> str:
        return "".join(segment.text for segment in render_row(_event(), width, STYLES, selected=False))

    assert all(part in text(160) for part in (".123", "payment", "server", "user_0042", "Payment 4200"))
    assert "server" not in text(99)
    assert "user_0042" in text(99)
    assert "user_0042" not in text(79)
    assert "payment " in text(79)
    assert "payment " not in text(59)


def test_level_is_coloured_and_the_cursor_row_is_highlighted() -> None:
    plain = render_row(_event(), 120, STYLES, selected=False)
    level = next(segment for segment in plain if segment.text == "ERROR")
    assert level.style is not None
    assert level.style.color is not None
    assert level.style.color.name == "red"
    chosen = render_row(_event(), 120, STYLES, selected=True)
    assert all(segment.style == Style(reverse=True) for segment in chosen if segment.text.strip())


def test_hostile_fields_render_as_visible_placeholders() -> None:
    event = _event(
        message="\x1b]0;PWN\x07 \u202eevil", category="c\x9b", user_id="[b]u\x1b", source="s\u2066"
    )
    strip = render_row(event, 160, STYLES, selected=False)
    text = "".join(segment.text for segment in strip)
    assert is_safe(text)
    assert "␛]0;PWN␇ ⟨U+202E⟩evil" in text
    assert "[b]u␛" in text


def test_fit_pads_and_marks_cuts_by_cells() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abcdefgh", 5) == "abcd…"
    assert fit("日本語テキスト", 6) == "日本 …"  # wide characters count two cells
    assert fit("x", 0) == ""


def test_slim_keeps_memory_bounded_and_leaves_small_events_alone() -> None:
    small = _event()
    assert slim(small) is small
    big = slim(_event(message="m" * 100_000, details="{" + "x" * 100_000 + "}", user_message="u" * 9000))
    assert len(big.message) == KEEP_CHARS
    assert big.details is None
    assert big.user_message is not None
    assert len(big.user_message) == KEEP_CHARS
