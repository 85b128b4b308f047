"""safe_text: every control, C1, bidi and invisible character becomes a visible placeholder."""

from __future__ import annotations

import time
import unicodedata

import pytest

from sidelog.tui.sanitize import clip, is_safe, safe_text


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
    ],
)
def test_controls_become_visible_placeholders(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown
    assert is_safe(shown)
    assert not is_safe(raw)


def test_multiline_keeps_newlines_and_expands_tabs_but_not_carriage_returns() -> None:
    assert safe_text("a\n\tb\r\nc\x1b", multiline=True) == "a\n    b␍\nc␛"


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


def test_long_text_is_fast() -> None:
    started = time.perf_counter()
    safe_text("x" * 1_000_000)
    safe_text("\x1b" * 100_000)
    assert time.perf_counter() - started < 0.5


def test_clip_marks_the_cut() -> None:
    assert clip("abcdef", 10) == "abcdef"
    assert clip("abcdef", 4) == "abc…"
    assert len(clip("x" * 100_000, 200)) == 200
