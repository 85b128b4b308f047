"""Event text on a terminal: every character visible, none that the terminal would act on.

``sidelog tail`` and ``sidelog export`` print untrusted event text. An ESC, a C1
control (``\\x9b`` is a one-byte CSI), BEL or OSC inside a message could retitle the
user's terminal, write its clipboard or redraw the screen; bidi overrides would make
the text shown differ from the text stored. (The UI has its own sanitizer; commands
do not import the UI package.)
"""

from __future__ import annotations

import re

_RANGES = (
    (0x0080, 0x009F),  # C1 controls
    (0x00AD, 0x00AD),  # soft hyphen
    (0x061C, 0x061C),  # Arabic letter mark
    (0x200B, 0x200F),  # zero-width characters, LRM, RLM
    (0x2028, 0x2029),  # line/paragraph separators
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, bidi isolates, invisible operators
    (0xD800, 0xDFFF),  # lone surrogates
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0xE0000, 0xE007F),  # tag characters
)

_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
_TABLE[0x7F] = "\u2421"
for _start, _end in _RANGES:
    for _code in range(_start, _end + 1):
        _TABLE[_code] = f"⟨U+{_code:04X}⟩"
_TABLE[0x09] = " "

_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)


def safe_text(text: str) -> str:
    """``text`` on one line with control, C1, bidi and invisible characters made visible."""
    return text.translate(_TABLE)


def json_safe(line: str) -> str:
    """A JSON text with DEL, C1, bidi and invisible characters written as ``\\uXXXX`` escapes.

    Equivalent JSON (parsers read the same strings back), but inert on a terminal.
    Control characters below U+0020 are already escaped by every JSON encoder.
    """
    return _JSON_UNSAFE.sub(_escape, line)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells astral characters as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
