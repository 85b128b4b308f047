"""Untrusted event text on a terminal: every character visible, none the terminal would act on.

One sanitizer for everything that shows event text: the terminal UI (``sidelog.tui``),
``sidelog tail`` and ``sidelog export``. It imports no Textual, so the commands can use it
without loading the UI, and the UI and the commands cannot drift apart (the test
``tests/unit/test_textsafe.py`` feeds the same hostile strings through both paths).

Why: Textual and ``print`` write text to the terminal as-is, so an ESC, a C1 control
(``\\x9b`` is a one-byte CSI), BEL or an OSC sequence inside a message could retitle the
terminal, write its clipboard (OSC 52), forge hyperlinks (OSC 8) or redraw the screen.
Bidi overrides and invisible characters make the text shown differ from the text stored
(Trojan Source), and a search for what the user sees would then miss it.

What is replaced (``UNSAFE_RANGES``, plus the rule for U+200D below):

- every control: C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F);
- every format character (Unicode category Cf): soft hyphen, the Arabic and Syriac
  prepended marks, ALM/LRM/RLM, the bidi embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069), zero-width space and non-joiner, word joiner and the
  invisible operators, BOM, interlinear annotation, tag characters (U+E0000–U+E007F,
  "ASCII smuggling"), and the rarer format controls of other blocks;
- the line and paragraph separators (U+2028, U+2029) and lone surrogates;
- characters that draw nothing although they are letters or marks: the Hangul fillers
  (U+115F, U+1160, U+3164, U+FFA0), the combining grapheme joiner (U+034F) and the
  Khmer inherent vowels (U+17B4, U+17B5).

C0 controls and DEL become their control pictures (``ESC`` -> ``␛``), everything else
``⟨U+XXXX⟩``. The judgement calls:

- U+200D ZERO WIDTH JOINER is kept between two emoji (``👩‍💻``, ``🏳️‍🌈``), where it
  is how the sequence is spelled and shows as one picture; anywhere else it is invisible
  and is replaced like the other zero-width characters.
- Kept as they are: U+2800 BRAILLE PATTERN BLANK (a real character that takes one visible
  blank cell, like a space), the variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF:
  emoji and CJK presentation) and the Mongolian free variation selectors. Zero-width
  non-joiner is replaced even though Persian uses it: a placeholder in rare Persian text
  costs less than an invisible character anywhere else.
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),  # C0 controls (shown as control pictures)
    (0x007F, 0x009F),  # DEL and the C1 controls (\x9b is CSI, \x9d OSC, \x90 DCS, \x9c ST)
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),  # Arabic prepended concatenation marks
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x06DD, 0x06DD),  # Arabic end of ayah
    (0x070F, 0x070F),  # Syriac abbreviation mark
    (0x0890, 0x0891),  # Arabic pound and piastre marks above
    (0x08E2, 0x08E2),  # Arabic disputed end of ayah
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels (draw nothing)
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200C),  # zero-width space, zero-width non-joiner (U+200D: see the docstring)
    (0x200E, 0x200F),  # LRM, RLM
    (0x2028, 0x2029),  # line and paragraph separators
    (0x202A, 0x202E),  # LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),  # word joiner, invisible operators, LRI/RLI/FSI/PDI, deprecated format
    (0x3164, 0x3164),  # Hangul filler
    (0xD800, 0xDFFF),  # lone surrogates (cannot even be encoded for the terminal)
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0x110BD, 0x110BD),  # Kaithi number sign
    (0x110CD, 0x110CD),  # Kaithi number sign above
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE007F),  # tag characters ("ASCII smuggling")
)
"""Every code point ``safe_text`` replaces, except U+200D (kept between two emoji)."""

ZWJ = "\u200d"
"""ZERO WIDTH JOINER: replaced unless it joins two emoji."""

_PICTURE_BASE = 0x2400
"""U+2400 CONTROL PICTURE FOR NULL; C0 code ``c`` has its picture at ``0x2400 + c``."""
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
"""Skin tones: an emoji may carry one before the joiner (``👩🏽‍💻``)."""


def _placeholder(code: int) -> str:
    if code < 0x20:
        return chr(_PICTURE_BASE + code)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"⟨U+{code:04X}⟩"


def _build_table(*, multiline: bool) -> dict[int, str]:
    table = {code: _placeholder(code) for start, end in UNSAFE_RANGES for code in range(start, end + 1)}
    if multiline:
        del table[0x0A]
        table[0x09] = "    "
    else:
        table[0x09] = " "
    return table


def _pattern(codes: list[int]) -> re.Pattern[str]:
    """One character class of ``codes``, as ranges (a class of single code points is slow)."""
    spans: list[list[int]] = []
    for code in sorted(codes):
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return re.compile("[" + "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in spans) + "]")


_SINGLE_LINE = _build_table(multiline=False)
_MULTILINE = _build_table(multiline=True)
_UNSAFE_SINGLE = _pattern(list(_SINGLE_LINE))
_UNSAFE_MULTI = _pattern(list(_MULTILINE))
_JSON_UNSAFE = _pattern([code for code in _SINGLE_LINE if code >= 0x20] + [ord(ZWJ)])
"""What ``json_safe`` escapes: JSON encoders already escape everything below U+0020."""


def joins_emoji(text: str, index: int) -> bool:
    """Whether the U+200D at ``text[index]`` sits between two emoji (and so is kept).

    An emoji here is a character of category "So" (symbol, other: pictographs, dingbats,
    ``♀``, ``⬛``); before the joiner it may also carry VS16 (U+FE0F) or a skin tone.
    """
    if index <= 0 or index + 1 >= len(text):
        return False
    before, after = text[index - 1], text[index + 1]
    before_ok = before == "\ufe0f" or ord(before) in _EMOJI_MODIFIERS or unicodedata.category(before) == "So"
    return before_ok and unicodedata.category(after) == "So"


_MAY_JOIN = re.compile("(?<=[^\x00-\x7f\u200d])\u200d(?=[^\x00-\x7f\u200d])")
"""A joiner with a non-ASCII neighbour each side: only these can join emoji (a cheap pre-check)."""


def _lone_joiners(text: str, replacement: str) -> str:
    """``text`` with every U+200D that does not join two emoji replaced (``text`` itself if none)."""
    if _MAY_JOIN.search(text) is None:
        return text.replace(ZWJ, replacement)
    parts: list[str] = []
    start = 0
    index = text.find(ZWJ)
    while index >= 0:
        if not joins_emoji(text, index):
            parts.append(text[start:index])
            parts.append(replacement)
            start = index + 1
        index = text.find(ZWJ, index + 1)
    if not parts:
        return text
    parts.append(text[start:])
    return "".join(parts)


def safe_text(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control, C1, bidi and invisible character made visible.

    Single-line (the default, for stream rows, labels and ``tail`` lines): newlines become
    ``␊`` and tabs a space. ``multiline=True`` (detail view, pretty JSON) keeps ``\\n`` and
    expands tabs to four spaces; ``\\r`` still becomes ``␍`` so no line can overwrite
    another. Text with nothing to replace is returned as the same object.
    """
    table, unsafe = (_MULTILINE, _UNSAFE_MULTI) if multiline else (_SINGLE_LINE, _UNSAFE_SINGLE)
    if ZWJ in text:  # judged on the raw neighbours, before anything around it is replaced
        text = _lone_joiners(text, "⟨U+200D⟩")
    if unsafe.search(text) is None:
        return text
    return text.translate(table)


def json_safe(line: str) -> str:
    """A JSON text with every character ``safe_text`` replaces written as a ``\\uXXXX`` escape.

    Equivalent JSON (parsers read the same strings back), but inert on a terminal. Control
    characters below U+0020 are already escaped by every JSON encoder.
    """
    if _JSON_UNSAFE.search(line) is None:
        return line
    return _JSON_UNSAFE.sub(_json_escape, line)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == ZWJ and joins_emoji(match.string, match.start()):
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells astral characters as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, with ``…`` marking a cut.

    Cut before sanitizing so a 100,000-character message costs no more than a short one.
    """
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def is_safe(text: str) -> bool:
    """True if ``text`` holds no character ``safe_text`` would replace (newlines aside)."""
    return safe_text(text, multiline=True) == text


__all__ = ["UNSAFE_RANGES", "ZWJ", "clip", "is_safe", "joins_emoji", "json_safe", "safe_text"]
