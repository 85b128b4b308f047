"""Plain text log lines (and joined multi-line blocks) as native events.

What a dev server prints is not JSON, but it almost always says how bad a line is,
in one of a few places: a level word near the start (``ERROR``, ``[warn]``,
``| WARNING |``, ``level=warn``), a one-letter prefix (Android's ``W/Tag:``, glog's
``E0501``), Python logging's default ``WARNING:name:message``, a symbol (Next.js
``⨯``/``⚠``, esbuild ``✘``), a build tool's banner (Vite's ``Internal server error``,
webpack's ``ERROR in``/``Failed to compile``) or an exception header (``TypeError:``,
``Traceback (most recent call last):``, ``panic:``). Only those places are read: a
line that merely mentions "error" in its prose stays info. Escape codes are stripped
from what is stored. Used by the socket decoder for lines that are not JSON and by
``sidelog run``/``import`` with the blocks of ``sidelog.dialects.multiline``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sidelog.dialects import logfmt
from sidelog.dialects.common import Builder, Outcome, Rejected
from sidelog.dialects.levels import EXACT_NAMES, NAMED
from sidelog.dialects.stacks import parse_exception, strip_ansi
from sidelog.dialects.timestamps import iso_ms

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LEADING_TIME = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?: ?(?:Z|[+-]\d\d:?\d\d))?)\]?[ \t]*"
)
_PY_DEFAULT = re.compile(r"(CRITICAL|FATAL|ERROR|WARNING|WARN|INFO|DEBUG):([^:\s]*):(.*)")
_ANDROID = re.compile(r"([VDIWEFA])/([^(:\s][^(:]{0,80}?) ?(?:\( *\d+\))?: (.*)")
_GLOG = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ ([^\]\s]+)\] (.*)")
_LEVEL_WORDS = "trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit|panic|alert|emerg|severe"
_UPPER_LEVEL = re.compile(rf"\b({_LEVEL_WORDS.upper()})\b")
_BRACKETED = re.compile(rf"[\[<(|] *({_LEVEL_WORDS}|silly|verbose|http|success) *[\]>)|]", re.IGNORECASE)
_WORD_COLON = re.compile(rf"({_LEVEL_WORDS}|silly|verbose|http)(?:\[\w+\])?:", re.IGNORECASE)
_LEVEL_FIELD = re.compile(r"\b(?:level|lvl|severity)=\"?(\w+)", re.IGNORECASE)
_HTTP_STATUS = re.compile(
    r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) +(?:/|https?://)\S*(?: +HTTP/[\d.]+\"?)? +([1-5]\d\d)\b"
    r"|\bCompleted ([1-5]\d\d)\b"
)
"""An access-log line's status (Next.js ``GET /api 500 in 12ms``, Express, werkzeug's
``"GET / HTTP/1.1" 500``, Rails' ``Completed 500``): 5xx is an error, 4xx a warning."""
_EXCEPTION_HEAD = re.compile(
    r"(?:Uncaught |Unhandled |Exception in thread \"[^\"]*\" )?[\w$.]*(?:Error|Exception)\b(?: \[\w+\])?:?"
)
_WARNING_HEAD = re.compile(r"(?:\S*:\d+: )?\w*Warning: ")
_ERROR_BANNERS = re.compile(
    r"Traceback \(most recent call last\):|panic: |fatal error: |Internal server error|error during build"
    r"|Failed to compile|Module build failed|Module not found|Build failed|ERROR in |npm ERR!|npm error "
    r"|compiled with \d+ errors?|\[ERROR\]|Unhandled Runtime Error|Uncaught "
)
_WARN_BANNERS = re.compile(
    r"WARNING in |Compiled with warnings|compiled with \d+ warnings?|npm WARN|npm warn "
)
_ERROR_SYMBOLS = ("⨯", "✘", "✖", "✗", "×")
_WARN_SYMBOLS = ("⚠",)
_LETTERS = {"V": "verbose", "D": "debug", "I": "info", "W": "warn", "E": "error", "F": "fatal", "A": "fatal"}
SCAN_CHARS = 4096
"""How much of a line is searched for a level (bounded work on a 1 MiB line)."""
MAX_LOGFMT_CHARS = 64 * 1024
"""Longest line tried as logfmt; a longer one is plain text."""
_PREFIX_CHARS = 80
"""How far into a line a bare upper-case level word still counts as its level."""


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What one text line says about itself."""

    level: str | None
    """debug/info/warn/error when the line says it, else ``None``."""
    level_token: str | None
    """The level as the line wrote it (``WARNING``, ``W``, ``⨯``)."""
    message: str
    """The line to store as the message (structured prefixes removed)."""
    logger: str | None = None
    caller: str | None = None
    timestamp: int | None = None
    """ms since the epoch when the line starts with a date-time."""


_BRACKET_TEXT = re.compile(rb"\[[^\]\[{}\"]*\]")
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
MAX_CONTROL_SHARE = 8
"""A line with more than one control character in this many bytes is binary, not text."""


def text_line(raw: bytes) -> str | None:
    """``raw`` (one line, no newline, indentation kept) as text when it is printable text.

    ``None`` for what must stay a JSON rejection: a line starting with ``{`` (torn
    or broken JSON), one starting with ``[`` unless it opens with a bracketed word
    (``[warn]``, ``[vite]``, ``[2024-05-01 12:00:00]``), invalid UTF-8, a NUL byte,
    or a line dense with control characters (binary garbage).
    """
    start = raw.lstrip()
    if not start or start[0] == 0x7B or (start[0] == 0x5B and _BRACKET_TEXT.match(start) is None):
        return None
    if b"\x00" in raw:
        return None
    controls = len(_BINARY.findall(raw)) if _BINARY.search(raw) else 0
    if controls and controls * MAX_CONTROL_SHARE > len(raw):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def clean(text: str) -> str:
    """``text`` as stored: escape codes stripped, each line cut to what follows its
    last carriage return (what a terminal shows), other control characters removed."""
    text = strip_ansi(text)
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n"))
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def classify_line(line: str) -> LineInfo:
    """The level, logger, time and message one text line states (ANSI already stripped)."""
    stripped = line.strip()
    stamp_match = _LEADING_TIME.match(stripped)
    timestamp = iso_ms(stamp_match.group(1)) if stamp_match else None
    rest = stripped[stamp_match.end() :] if stamp_match and timestamp is not None else stripped
    for pattern, kind in ((_PY_DEFAULT, "python"), (_ANDROID, "android"), (_GLOG, "glog")):
        match = pattern.fullmatch(rest)
        if match is not None:
            token = match.group(1)
            name = _LETTERS[token] if kind != "python" else token
            logger, message = match.group(2), match.group(3).strip() or stripped
            return LineInfo(
                NAMED[name.lower()],
                token,
                message,
                logger=logger if kind != "glog" else None,
                caller=logger if kind == "glog" else None,
                timestamp=timestamp,
            )
    found = _level_token(rest[:SCAN_CHARS])
    if found is None:
        return LineInfo(None, None, stripped, timestamp=timestamp)
    return LineInfo(found[1], found[0], stripped, timestamp=timestamp)


def _level_token(rest: str) -> tuple[str, str] | None:
    """``(as written, level)`` for what the line states, most explicit place first."""
    start = rest.lstrip(" -*•>")
    for symbol in _ERROR_SYMBOLS:
        if start.startswith(symbol):
            return symbol, "error"
    for symbol in _WARN_SYMBOLS:
        if start.startswith(symbol):
            return symbol, "warn"
    prefix = rest[:_PREFIX_CHARS]
    for match in (
        _BRACKETED.search(prefix),
        _LEVEL_FIELD.search(rest),
        _WORD_COLON.match(start),
        _UPPER_LEVEL.search(prefix),
    ):
        if match is not None and match.group(1).lower() in NAMED:
            return match.group(1), NAMED[match.group(1).lower()]
    head = _EXCEPTION_HEAD.match(start)
    if head is not None:
        return head.group(0).rstrip(":"), "error"
    banner = _ERROR_BANNERS.search(rest)
    if banner is not None:
        return banner.group(0).strip(), "error"
    warning = _WARNING_HEAD.match(start) or _WARN_BANNERS.search(rest)
    if warning is not None:
        return warning.group(0).strip(" :"), "warn"
    access = _HTTP_STATUS.search(rest)
    if access is not None:
        status = int(access.group(1) or access.group(2))
        return access.group(0), "error" if status >= 500 else "warn" if status >= 400 else "info"
    return None


def line_level(line: str) -> str | None:
    """debug/info/warn/error as the line states it (escape codes allowed), else ``None``."""
    return classify_line(strip_ansi(line)).level


def recognise_text(text: str) -> Outcome:
    """One text line, or a joined block (first line + stack), as a native event.

    A single logfmt line becomes a ``logfmt`` event; anything else a ``text`` event
    whose level is what the first line states (``error`` when the block holds an
    exception and the line states nothing), with ``details.exception`` parsed from
    a stack in the block and the other lines kept in ``details.text``.
    """
    cleaned = clean(text).strip("\n")
    lines = [line for line in cleaned.split("\n") if line.strip()]
    if not lines:
        return Rejected("text", "line is empty")
    head = lines[0].strip()
    if len(lines) == 1 and "=" in head and len(head) <= MAX_LOGFMT_CHARS:
        outcome = logfmt.recognise(head)
        if outcome is not None:
            return outcome
    info = classify_line(head)
    builder = Builder("text")
    builder.message = info.message
    multi = len(lines) > 1
    exception = parse_exception(cleaned) if multi or head.startswith(("panic:", "fatal error:")) else None
    if info.level is not None and info.level_token is not None:
        builder.level = info.level
        word = info.level_token.lower()
        if word in NAMED and word not in EXACT_NAMES:  # a level word such as CRITICAL, not a banner
            builder.details["level"] = info.level_token
    elif exception is not None:
        builder.level = "error"
    if info.timestamp is not None:
        builder.timestamp = info.timestamp
    builder.meta("logger", info.logger)
    builder.meta("caller", info.caller)
    if exception is not None:
        builder.put("exception", exception)
        stack = exception["stack"]
        if info.level is None or stack.startswith(head):
            summary = ": ".join(part for part in (exception["type"], exception["message"]) if part)
            builder.message = summary or info.message
        if _outside(cleaned, head, stack):
            builder.put("text", cleaned)
    elif multi:
        builder.put("text", cleaned)
    return builder.build("text")


def _outside(block: str, head: str, stack: str) -> bool:
    """Whether the block has lines that are neither its first line nor the stack."""
    body = block.strip()
    if stack and body.endswith(stack):
        before = body[: len(body) - len(stack)].strip()
        return before not in ("", head)
    return True
