"""Make untrusted event text safe to put on a terminal: every character visible, none active.

Event text is data. Textual writes segment text to the terminal as-is, so an ESC,
a C1 control (``\\x9b`` is a one-byte CSI), BEL or an OSC sequence inside a message
would reach the terminal and could retitle it, write the clipboard (OSC 52), forge
hyperlinks (OSC 8) or redraw the screen. Bidi overrides and other invisible format
characters would make the shown text differ from the stored text (Trojan Source).

``safe_text`` maps each such character to a visible placeholder: C0 controls and DEL
become their Unicode control pictures (``ESC`` -> ``␛``), everything else becomes
``⟨U+XXXX⟩``. The result never contains a character a terminal would act on, so it can
go into a Rich ``Text`` or Textual ``Content`` (never markup) and straight to the screen.
"""

from __future__ import annotations

import re

_PICTURE_BASE = 0x2400
"""U+2400 CONTROL PICTURE FOR NULL; C0 code ``c`` has its picture at ``0x2400 + c``."""

_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0080, 0x009F),  # C1 controls (\x9b is CSI, \x9d OSC, \x90 DCS, \x9c ST)
    (0x00AD, 0x00AD),  # soft hyphen
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x115F, 0x1160),  # Hangul fillers (render as nothing)
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200C),  # zero-width space, zero-width non-joiner (U+200D ZWJ is kept: emoji)
    (0x200E, 0x200F),  # LRM, RLM
    (0x2028, 0x2029),  # line and paragraph separators
    (0x202A, 0x202E),  # LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),  # word joiner, invisible operators, LRI/RLI/FSI/PDI, deprecated format
    (0x3164, 0x3164),  # Hangul filler
    (0xD800, 0xDFFF),  # lone surrogates (cannot even be encoded for the terminal)
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0xE0000, 0xE007F),  # tag characters ("ASCII smuggling")
)
"""Code points shown as ``⟨U+XXXX⟩``: C1 controls, bidi and other invisible format characters."""


def _build_table(*, multiline: bool) -> dict[int, str]:
    table: dict[int, str] = {code: chr(_PICTURE_BASE + code) for code in range(0x20)}
    table[0x7F] = "\u2421"  # ␡
    for start, end in _INVISIBLE_RANGES:
        for code in range(start, end + 1):
            table[code] = f"⟨U+{code:04X}⟩"
    if multiline:
        del table[0x0A]
        table[0x09] = "    "
    else:
        table[0x09] = " "
    return table


_SINGLE_LINE = _build_table(multiline=False)
_MULTILINE = _build_table(multiline=True)


def _pattern(table: dict[int, str]) -> re.Pattern[str]:
    """One character class of ``table``'s keys, as ranges (a class of single code points is slow)."""
    spans: list[list[int]] = []
    for code in sorted(table):
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    parts = [f"\\U{start:08x}-\\U{end:08x}" for start, end in spans]
    return re.compile("[" + "".join(parts) + "]")


_UNSAFE_SINGLE = _pattern(_SINGLE_LINE)
_UNSAFE_MULTI = _pattern(_MULTILINE)


def safe_text(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control, C1, bidi and invisible format character made visible.

    Single-line (the default, for stream rows and labels): newlines become ``␊`` and tabs
    a space. ``multiline=True`` (detail view, pretty JSON) keeps ``\\n`` and expands tabs
    to four spaces; ``\\r`` still becomes ``␍`` so no line can overwrite another.
    """
    if multiline:
        if _UNSAFE_MULTI.search(text) is None:
            return text
        return text.translate(_MULTILINE)
    if _UNSAFE_SINGLE.search(text) is None:
        return text
    return text.translate(_SINGLE_LINE)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, with ``…`` marking a cut.

    Cut before sanitizing so a 100,000-character message costs no more than a short one.
    """
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def is_safe(text: str) -> bool:
    """True if ``text`` holds no character ``safe_text`` would replace (for tests and asserts)."""
    return _UNSAFE_MULTI.search(text.replace("\n", "")) is None


__all__ = ["clip", "is_safe", "safe_text"]
