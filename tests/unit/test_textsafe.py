"""One sanitizer: every control, C1, bidi and invisible character becomes a visible placeholder,
and the UI, ``sidelog tail`` and ``sidelog export`` show hostile text identically."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import sys
import unicodedata
from collections.abc import Callable

import orjson
import pytest
from rich.style import Style

from sidelog.commands.export import run_export
from sidelog.commands.tail import format_plain
from sidelog.config import Settings
from sidelog.events import Event
from sidelog.server import start_server
from sidelog.textsafe import UNSAFE_RANGES, clip, is_safe, json_safe, safe_text
from sidelog.tui.widgets.stream_rows import COMPONENTS, render_row
from tests.conftest import send_lines, tcp_port
from tests.support.linear import assert_linear

ROW_STYLES = {name: Style() for name in COMPONENTS} | {"base": Style()}

HOSTILE: list[tuple[str, str]] = [
    # (raw, shown): the same on every path. The first five are where the two former
    # sanitizers (the UI's and the commands') disagreed.
    ("name\u3164here", "name⟨U+3164⟩here"),
    ("\u115fblank", "⟨U+115F⟩blank"),
    ("mongol\u180eian", "mongol⟨U+180E⟩ian"),
    ("zero\u200dwidth", "zero⟨U+200D⟩width"),
    ("half\uffa0width \u1160jung", "half⟨U+FFA0⟩width ⟨U+1160⟩jung"),
    (
        "coder 👩\u200d💻 flag 🏳\ufe0f\u200d🌈 tone 👩🏽\u200d💻",
        "coder 👩\u200d💻 flag 🏳\ufe0f\u200d🌈 tone 👩🏽\u200d💻",
    ),
    ("osc0 \x1b]0;PWNED\x07 end", "osc0 ␛]0;PWNED␇ end"),
    ("csi \x1b[2J\x1b[31mRED", "csi ␛[2J␛[31mRED"),
    ("c1 \x9b31m \x9d0;T\x9c", "c1 ⟨U+009B⟩31m ⟨U+009D⟩0;T⟨U+009C⟩"),
    ("bidi \u202eevil\u202c \u2066iso\u2069", "bidi ⟨U+202E⟩evil⟨U+202C⟩ ⟨U+2066⟩iso⟨U+2069⟩"),
    ("marks \u200e\u200f\u061c", "marks ⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"),
    ("zw \u200b\u200c\u2060\ufeff", "zw ⟨U+200B⟩⟨U+200C⟩⟨U+2060⟩⟨U+FEFF⟩"),
    ("pay\u034fment \u00adsoft", "pay⟨U+034F⟩ment ⟨U+00AD⟩soft"),
    ("tag\U000e0041\U000e0042", "tag⟨U+E0041⟩⟨U+E0042⟩"),
    ("lines a\r\nb\u2028c", "lines a␍␊b⟨U+2028⟩c"),
    ("braille \u2800 blank stays", "braille \u2800 blank stays"),
    ("[bold red]FAKE[/] [@click=app.quit]x[/]", "[bold red]FAKE[/] [@click=app.quit]x[/]"),
]
"""Hostile strings and what every path shows for them."""


# ------------------------------------------------------------------ safe_text itself


def test_plain_text_is_returned_unchanged() -> None:
    text = "Payment 4200 cents failed — café ✓ 日本語 👩‍💻 [bold]x[/]"
    assert safe_text(text) is text
    assert safe_text(text, multiline=True) is text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "␛]0;title␇"),
        ("\x1b[2J", "␛[2J"),
        ("a\x00b\x7fc", "a␀b␡c"),
        ("line\r\nnext", "line␍␊next"),
        ("tab\there", "tab here"),
        ("\x9b31m", "⟨U+009B⟩31m"),
        ("\x9dOSC\x9c", "⟨U+009D⟩OSC⟨U+009C⟩"),
        ("\u202eevil\u202c", "⟨U+202E⟩evil⟨U+202C⟩"),
        ("\u2066\u2067\u2068\u2069", "⟨U+2066⟩⟨U+2067⟩⟨U+2068⟩⟨U+2069⟩"),
        ("\u200e\u200f\u061c", "⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"),
        ("zero\u200bwidth\ufeff", "zero⟨U+200B⟩width⟨U+FEFF⟩"),
        ("sep\u2028para\u2029", "sep⟨U+2028⟩para⟨U+2029⟩"),
        ("tag\U000e0041", "tag⟨U+E0041⟩"),
        ("lone\ud800", "lone⟨U+D800⟩"),
        *HOSTILE,
    ],
)
def test_controls_become_visible_placeholders(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown
    assert is_safe(shown)
    assert safe_text(shown) == shown  # idempotent
    assert is_safe(raw) == (raw == shown)


def test_multiline_keeps_newlines_and_expands_tabs_but_not_carriage_returns() -> None:
    assert safe_text("a\n\tb\r\nc\x1b", multiline=True) == "a\n    b␍\nc␛"


def test_a_joiner_is_kept_only_between_two_emoji() -> None:
    assert safe_text("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"
    assert safe_text("\u200d👩") == "⟨U+200D⟩👩"  # nothing before it
    assert safe_text("👩\u200d") == "👩⟨U+200D⟩"  # nothing after it
    assert safe_text("👩\u200d\u200d💻") == "👩⟨U+200D⟩⟨U+200D⟩💻"
    assert safe_text("\x1b\u200d👩") == "␛⟨U+200D⟩👩"  # judged on the raw text, not on "␛"


def test_no_c0_c1_or_bidi_character_survives_any_input() -> None:
    every = "".join(chr(code) for code in range(0x0, 0x3000))
    result = safe_text(every)
    for char in result:
        code = ord(char)
        assert code >= 0x20, hex(code)
        assert not 0x7F <= code <= 0x9F, hex(code)
        assert unicodedata.bidirectional(char) not in (
            "LRE",
            "RLE",
            "PDF",
            "LRO",
            "RLO",
            "LRI",
            "RLI",
            "FSI",
            "PDI",
        )
        assert char not in "\u200e\u200f\u061c"
    result.encode("utf-8")  # nothing unencodable (no lone surrogates) either


def test_every_control_and_format_character_of_this_python_is_covered() -> None:
    """Categories Cc, Cf, Cs, Zl and Zp in full, U+200D aside (kept only between emoji)."""
    covered = {code for start, end in UNSAFE_RANGES for code in range(start, end + 1)}
    missing = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if code != 0x200D
        and unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and code not in covered
    ]
    assert missing == []


@pytest.mark.parametrize("unit", ["x", "\x1b", "\u200d", "\u202e", "a\u0301"])
def test_long_text_costs_linear_time(unit: str) -> None:
    assert_linear(lambda k: safe_text(unit * k), 20_000)


def test_every_escape_of_a_long_text_is_shown() -> None:
    assert safe_text("\x1b" * 100_000) == "\u241b" * 100_000  # none passed through


def test_clip_marks_the_cut() -> None:
    assert clip("abcdef", 10) == "abcdef"
    assert clip("abcdef", 4) == "abc…"
    assert len(clip("x" * 100_000, 200)) == 200


# ------------------------------------------------- the UI and the commands agree


def ui_row_message(message: str) -> str:
    """The message as the stream shows it: the end of a wide row, padding removed."""
    event = Event(message=message, category="c", source="s", user_id="u", timestamp=0)
    strip = render_row(event, 400, ROW_STYLES, selected=False)
    return "".join(segment.text for segment in strip).rstrip(" ")


def tail_line_message(message: str) -> str:
    """The message as ``sidelog tail`` prints it: the last field of its line."""
    wire = {"message": message, "category": "c", "source": "s", "userId": "u", "type": "info"}
    return format_plain(wire)


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_the_stream_and_tail_show_the_same_text(raw: str, shown: str) -> None:
    assert ui_row_message(raw).endswith(" " + shown)
    assert tail_line_message(raw).endswith(" " + shown)


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_json_output_escapes_exactly_what_the_screen_replaces(raw: str, shown: str) -> None:
    line = json_safe(orjson.dumps({"message": raw}).decode())
    assert json.loads(line) == {"message": raw}  # the same JSON, only spelled with escapes
    assert is_safe(line)
    assert ("\u200d" in line) == ("\u200d" in shown)  # a joiner in emoji stays raw on both


class _Terminal(io.StringIO):
    """Standard output that says it is a terminal, so ``export`` sanitizes its CSV."""

    def isatty(self) -> bool:
        return True


async def test_export_to_a_terminal_shows_what_the_stream_shows(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(enable_system_logging=False)
    engine = (await start_server(settings)).engine
    try:
        payload = b"".join(
            orjson.dumps({"message": raw, "category": "hostile"}) + b"\n" for raw, _ in HOSTILE
        )
        assert (await send_lines(tcp_port(engine), payload))[-1] == {"ok": True, "stored": len(HOSTILE)}
    finally:
        await engine.stop()
    with sqlite3.connect(settings.db) as db:
        stored = [row[0] for row in db.execute("SELECT message FROM events ORDER BY id")]
    assert stored == [raw for raw, _ in HOSTILE]

    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    assert run_export(argparse.Namespace(format="csv", output=None), settings, []) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    exported = [row["message"] for row in rows]
    assert exported == [shown for _, shown in HOSTILE]
    assert [ui_row_message(raw).endswith(" " + cell) for raw, cell in zip(stored, exported, strict=True)] == [
        True
    ] * len(HOSTILE)
