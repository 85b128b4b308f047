"""A repro bundle: one error as Markdown, ready to paste into an issue tracker.

What a colleague needs to reproduce an error without sidelog in front of them: the
error itself (message, exception type, level, source, time, fingerprint and how often
its group happened), its stack (the frames parsed by ``sidelog.stackframes``, then the
stack as it was sent), the event's ``details`` (as stored, so already redacted) and what
the same session did just before, oldest first. The UI copies it (``b`` in the event
detail and the errors pane) and ``sidelog export --bundle FINGERPRINT`` writes it; both
build it here, so they cannot drift apart. Pure formatting: no I/O, no Textual.

Everything in it came from an app or a web page, so it is made safe twice over:

- for the terminal and the eye, by ``safe_text`` (escape sequences, C1 controls, bidi
  overrides and invisible characters become visible placeholders);
- for Markdown: text outside code blocks has every character Markdown could act on
  backslash-escaped (``*``, ``_``, ``[``, ``|``, ``<``, backticks…), so a message cannot
  hide a link behind other text or become an image, a table column or HTML; a code
  block's fence is one backtick longer than the longest run of backticks inside it, so
  nothing inside can close it.

Sizes are bounded (each part clipped with a note saying so), so a 100,000-frame stack
or a megabyte of details still gives a bundle an issue tracker accepts.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import orjson

from sidelog.events import Event
from sidelog.stackframes import Frame, Kind, Stack, stack_text
from sidelog.store.models import ErrorGroup
from sidelog.textsafe import clip, safe_text

DEFAULT_PRECEDING = 20
"""Events of the session listed before the error unless asked otherwise."""
TITLE_CHARS = 200
MESSAGE_CHARS = 2_000
ROW_CHARS = 160
"""Characters of a message in the table of preceding events."""
STACK_LINES = 400
STACK_LINE_CHARS = 500
FRAMES_LISTED = 50
"""Frames in the frame table (the first and last halves; the middle is counted)."""
FRAMES_READ = 5_000
"""Stack lines read for the frame table (a bigger stack is summarised)."""
DETAILS_CHARS = 20_000

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#!|~&$])")
"""What Markdown acts on inside a line that does not start it (links, emphasis, HTML,
table cells, entities, strikethrough, maths); ``.``, ``-`` and ``+`` matter only at a
line's start, where escaped text never goes."""
_BACKTICK_RUNS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class Bundle:
    """What a repro bundle says: the error event, its group, and what came before it."""

    event: Event
    group: ErrorGroup | None = None
    scope: str | None = None
    """``session``, ``user`` or ``trace``: what ties ``preceding`` to the event (``None``: nothing)."""
    scope_value: str | None = None
    preceding: list[Event] = field(default_factory=list)
    """The scope's events just before the error, oldest first."""
    asked: int = DEFAULT_PRECEDING
    """How many preceding events were asked for (to say when fewer exist)."""


def md_text(text: str, limit: int = MESSAGE_CHARS) -> str:
    """Untrusted text as one line of inert Markdown: clipped, made visible, escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", safe_text(clip(text, limit)))


def fenced(text: str, info: str = "") -> str:
    """``text`` in a code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def utc(ms: int) -> str:
    """``2026-11-30 13:55:33.123 UTC``: the same for every reader of the issue, whatever their zone."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d} UTC"


def exception_type(details: object, stack: Stack | None) -> str | None:
    """The exception's type: ``details.exception.type`` (or ``name``), else the stack's
    last ``Type: message`` line."""
    if isinstance(details, dict):
        exception = details.get("exception")
        if isinstance(exception, dict):
            for key in ("type", "name"):
                value = exception.get(key)
                if isinstance(value, str) and value:
                    return value
    if stack is not None:
        for index in range(len(stack) - 1, max(-1, len(stack) - 50), -1):
            line = stack.line(index)
            if line.kind is Kind.EXCEPTION:
                return line.text.split(":", 1)[0].strip() or None
    return None


def render(bundle: Bundle) -> str:
    """The whole bundle as Markdown."""
    event = bundle.event
    details = _parse(event.details)
    raw_stack = stack_text(details)
    stack = Stack(raw_stack) if raw_stack else None
    kind = exception_type(details, stack)
    title = event.message if kind is None or event.message.startswith(kind) else f"{kind}: {event.message}"
    parts = [f"## {md_text(title, TITLE_CHARS)}\n", _fields(bundle, kind), "### Stack\n"]
    parts.append(_stack(stack, raw_stack) if stack is not None and raw_stack else "No stack was sent.\n")
    parts.append("### Details\n")
    parts.append(_details(details, event.details))
    parts.append(_preceding(bundle))
    return "\n".join(parts)


def _parse(raw: str | None) -> object:
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _fields(bundle: Bundle, kind: str | None) -> str:
    event = bundle.event
    rows: list[tuple[str, str | None]] = [
        ("message", md_text(event.message)),
        ("exception type", md_text(kind) if kind else None),
        ("level", md_text(event.level)),
        ("category", md_text(event.category)),
        ("source", md_text(event.source)),
        ("when", utc(event.timestamp)),
        ("received", utc(event.received_at)),
        ("fingerprint", md_text(event.fingerprint) if event.fingerprint else None),
        ("group", _group(bundle.group)),
        ("what the user saw", md_text(event.user_message) if event.user_message is not None else None),
        ("userId", md_text(event.user_id) if event.user_id else None),
        ("sessionId", md_text(event.session_id) if event.session_id else None),
        ("traceId", md_text(event.trace_id) if event.trace_id else None),
        ("url", md_text(event.url) if event.url else None),
        ("userAgent", md_text(event.user_agent) if event.user_agent else None),
        ("event id", str(event.id) if event.id is not None else None),
    ]
    lines = ["| field | value |", "|---|---|"]
    lines.extend(f"| {name} | {value} |" for name, value in rows if value is not None)
    return "\n".join(lines) + "\n"


def _group(group: ErrorGroup | None) -> str | None:
    if group is None:
        return None
    count = f"{group.count:,} event{'' if group.count == 1 else 's'}"
    state = group.status + (", regressed" if group.regressed else "")
    if group.status == "resolved" and group.resolved_at is not None:
        state += f" at {utc(group.resolved_at)}"
    return f"{count} · first seen {utc(group.first_seen)} · last seen {utc(group.last_seen)} · {state}"


def _stack(stack: Stack, raw: str) -> str:
    frames: list[Frame] = []
    read = min(len(stack), FRAMES_READ)
    for index in range(read):
        frame = stack.line(index).frame
        if frame is not None:
            frames.append(frame)
    parts: list[str] = []
    if frames:
        more = " or more" if read < len(stack) else ""
        noun = "frame" if len(frames) == 1 and not more else "frames"
        parts.append(f"{len(frames):,}{more} {noun} as written; the app's own in bold:\n")
        parts.append(_frame_table(frames))
    lines = [clip(stack.lines[index], STACK_LINE_CHARS) for index in range(min(len(stack), STACK_LINES))]
    text = safe_text("\n".join(lines), multiline=True)
    if len(stack) > STACK_LINES:
        text += f"\n[… {len(stack) - STACK_LINES:,} more lines not included]"
    parts.append(fenced(text, "text"))
    return "\n".join(parts)


def _frame_table(frames: list[Frame]) -> str:
    half = FRAMES_LISTED // 2
    numbered = list(enumerate(frames, 1))
    shown = numbered if len(frames) <= FRAMES_LISTED else [*numbered[:half], None, *numbered[-half:]]
    lines = ["| # | function | file | line |", "|---|---|---|---|"]
    for item in shown:
        if item is None:
            lines.append(f"| … | {len(frames) - 2 * half:,} frames not listed | | |")
            continue
        number, frame = item
        function, file = md_text(frame.function or "?", 200), md_text(frame.file, 300)
        if frame.in_app:
            function, file = f"**{function}**", f"**{file}**"
        line = "" if frame.line is None else str(frame.line)
        lines.append(f"| {number} | {function} | {file} | {line} |")
    return "\n".join(lines) + "\n"


def _details(value: object, raw: str | None) -> str:
    if raw is None:
        return "No details were sent.\n"
    if value is None and raw != "null":
        text, info = raw, "text"
    else:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        info = "json"
    note = ""
    if len(text) > DETAILS_CHARS:
        note = f"({len(text) - DETAILS_CHARS:,} more characters not included)\n"
        text = text[:DETAILS_CHARS]
    return fenced(safe_text(text, multiline=True), info) + note


def _preceding(bundle: Bundle) -> str:
    event = bundle.event
    if bundle.scope is None or bundle.scope_value is None:
        return "### Before it\n\nThe event has no session, user or trace: nothing to line up before it.\n"
    where = f"{bundle.scope} {md_text(bundle.scope_value, 200)}"
    count = len(bundle.preceding)
    if not bundle.preceding:
        return f"### Before it in {where}\n\nNothing earlier was stored.\n"
    heading = f"### The {count} event{'' if count == 1 else 's'} before it in {where}\n"
    lines = [
        heading,
        "| time | before | level | source | category | message | what the user saw |",
        "|---|---|---|---|---|---|---|",
    ]
    for earlier in [*bundle.preceding, event]:
        cells = [
            utc(earlier.timestamp),
            _before(event.timestamp - earlier.timestamp) if earlier is not event else "this error",
            md_text(earlier.level),
            md_text(earlier.source, 60),
            md_text(earlier.category, 60),
            md_text(earlier.message, ROW_CHARS),
            md_text(earlier.user_message, ROW_CHARS) if earlier.user_message is not None else "",
        ]
        if earlier is event:
            cells = [f"**{cell}**" if cell else cell for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    if count < bundle.asked:
        lines.append(f"\n(asked for {bundle.asked}; only {count} stored before it)")
    return "\n".join(lines) + "\n"


def _before(delta_ms: int) -> str:
    seconds = delta_ms / 1000
    if seconds < 60:
        return f"{seconds:.3f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


__all__ = ["DEFAULT_PRECEDING", "Bundle", "exception_type", "fenced", "md_text", "render", "utc"]
