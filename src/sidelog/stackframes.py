"""Stack traces read line by line: which lines are frames (file, line, function), which are
the exception chain, and which frames belong to the app rather than its libraries.

The detail view shows a stack as real lines, frames emphasised or dimmed. A stack may be
100,000 frames or one megabyte on a single line, and the view must open at once, so
nothing here reads the whole text up front: ``Stack`` splits it into lines (one C-level
pass) and classifies each line the first time it is asked for, looking only at that line
and the one before. Only the "in-app frames only" view walks every line, when asked.

Read: Python tracebacks (with their chain sentences and 3.11 caret lines), V8 stacks
(``at fn (file:line:col)``, ``at file:line:col``, ``Caused by:``, ``[cause]:``), Java
frames, browser stacks (Firefox and Safari ``fn@url:line:col``), and Sentry frame lists
(``stack_text`` turns them into Python-style lines, as ``sidelog.ingest.sentry_items``
stores them, in-app frames marked ``(in app)``). When a stack carries that mark, it is
the authority on which frames are the app's; otherwise the path decides (``is_library``).

Pure functions over untrusted text, no terminal: callers sanitize what they show
(``sidelog.textsafe``). Each line is clipped before any pattern runs, so work per line
is bounded whatever arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sidelog.lazylines import LazyLines

MAX_LINES = 250_000
"""Lines of a stack kept (the rest is summarised in one note line)."""
MAX_LINE_CHARS = 10_000
"""Characters of one line kept (a one-megabyte line shows its start and how much is cut)."""
PARSED_KEPT = 16_384
"""Classified lines kept per stack (reading a huge stack end to end stays bounded)."""
MAX_LIST_FRAMES = 100_000
"""Frames of a Sentry-style frame list turned into lines."""

IN_APP_MARK = " (in app)"
"""How Sentry-derived stacks mark the app's own frames (``sidelog.ingest.sentry_items``)."""

_PY_FRAME = re.compile(r'\s*File "([^"\n]*)", line ([0-9]{1,9}|\?)(?:, in (.*))?')
_MAY_BE_FRAME = re.compile(r'File "|at |@')
"""A quick test before the frame patterns: a line without any of these is no frame."""
_NUMBER = re.compile(r"[0-9]{1,9}")
_EXCEPTION = re.compile(r"[A-Za-z_$<][\w$.<>]*(?: \[[\w-]+\])?(?::(?: |$)|$)")
_CHAIN_PREFIXES = (
    "The above exception was the direct cause",
    "During handling of the above exception",
    "Caused by:",
    "Suppressed:",
)
_NOTE = re.compile(r"\s*(?:\[…|\.\.\. [0-9]+ |\[Previous line repeated|…)")
_JAVA_LIBRARY = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.")


class Kind(Enum):
    """What one line of a stack is."""

    FRAME = "frame"
    SOURCE = "source"
    """Python's source line (or caret line) under a frame."""
    HEADER = "header"
    """``Traceback (most recent call last):``."""
    CHAIN = "chain"
    """Where one exception of a chain ends and the next begins."""
    EXCEPTION = "exception"
    """``Type: message``."""
    NOTE = "note"
    """Frames left out (``... 12 more``, ``[… 3 older frames omitted]``)."""
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Frame:
    """One parsed frame; ``*_span`` are (start, end) offsets in the line it came from."""

    file: str
    line: int | None
    column: int | None
    function: str
    in_app: bool
    file_span: tuple[int, int]
    function_span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class StackLine:
    """One line of a stack, classified; ``frame`` is set for ``Kind.FRAME``."""

    text: str
    kind: Kind
    frame: Frame | None = None


def is_library(file: str, function: str = "") -> bool:
    """True for frames of installed libraries, the runtime or the standard library."""
    if (
        "site-packages" in file
        or "dist-packages" in file
        or "node_modules" in file
        or file.startswith(("<frozen", "node:", "internal/", "<anonymous>", "native", "[native code]"))
        or "/lib/python" in file
        or "\\Lib\\" in file
    ):
        return True
    return function.startswith(_JAVA_LIBRARY)


def _location(loc: str) -> tuple[str, int, int | None] | None:
    """``file:line[:col]`` split from the right (URLs keep their own colons)."""
    head, sep, last = loc.rpartition(":")
    if not sep or _NUMBER.fullmatch(last) is None:
        return None
    file, sep2, middle = head.rpartition(":")
    if sep2 and _NUMBER.fullmatch(middle) is not None and file:
        return file, int(middle), int(last)
    return (head, int(last), None) if head else None


def parse_frame(line: str, *, marked: bool = False) -> Frame | None:
    """The frame on ``line`` (Python, V8, Java, Firefox/Safari), or ``None``.

    ``marked``: the stack marks its in-app frames with ``(in app)``, so a Python-style
    frame without the mark is a library frame whatever its path.
    """
    line = line[:MAX_LINE_CHARS].rstrip()
    python = _PY_FRAME.match(line)
    if python is not None:
        function = python.group(3) or ""
        function_end = python.end(3) if python.group(3) is not None else -1
        mark = function.endswith(IN_APP_MARK)
        if mark:
            function = function[: -len(IN_APP_MARK)]
            function_end -= len(IN_APP_MARK)
        file = python.group(1)
        in_app = mark if marked else not is_library(file)
        span = (python.start(3), function_end) if function_end >= 0 else None
        number = None if python.group(2) == "?" else int(python.group(2))
        return Frame(file, number, None, function, in_app, python.span(1), span)
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    if stripped.startswith("at ") and len(stripped) > 3:
        # Node's inspect() output ends the last frame of an error with extra fields in " {".
        return _at_frame(stripped[3:-2] if stripped.endswith(" {") else stripped[3:], indent + 3)
    if indent == 0 and "@" in line:
        return _at_sign_frame(line)
    return None


def _at_frame(rest: str, offset: int) -> Frame | None:
    """V8 ``fn (file:line:col)`` / ``file:line:col``, or Java ``pkg.Cls.fn(File.java:12)``."""
    function, loc, loc_start = "", rest, offset
    if rest.endswith(")"):
        space_paren = rest.find(" (")
        paren = space_paren + 1 if space_paren >= 0 else rest.find("(")
        if paren > 0:
            function = rest[: space_paren if space_paren >= 0 else paren]
            loc, loc_start = rest[paren + 1 : -1], offset + paren + 1
    found = _location(loc)
    if found is None:
        if not function:
            return None
        file, line, column = loc, None, None  # "native", "<anonymous>", "Native Method"
    else:
        file, line, column = found
    function_span = (offset, offset + len(function)) if function else None
    in_app = line is not None and not is_library(file, function)
    return Frame(file, line, column, function, in_app, (loc_start, loc_start + len(file)), function_span)


def _at_sign_frame(line: str) -> Frame | None:
    """Firefox/Safari ``fn@url:line:col`` (``[native code]`` frames have no line)."""
    at = line.find("@")
    function, loc = line[:at], line[at + 1 :]
    if ": " in function or "(" in function and not function.endswith(")"):
        return None  # "ValueError: mail a@b:25" is an exception line, not a frame
    span = (0, at) if function else None
    if loc == "[native code]":
        return Frame(loc, None, None, function, False, (at + 1, len(line)), span)
    found = _location(loc)
    if found is None or not ("/" in loc or "\\" in loc or loc.startswith("<")):
        return None
    file, number, column = found
    return Frame(file, number, column, function, not is_library(file), (at + 1, at + 1 + len(file)), span)


def classify(line: str, previous: list[str] | None = None, *, marked: bool = False) -> StackLine:
    """``line`` classified, knowing only the raw lines just before it (nearest last)."""
    clipped = line[:MAX_LINE_CHARS]
    frame = parse_frame(clipped, marked=marked)
    if frame is not None:
        return StackLine(line, Kind.FRAME, frame)
    stripped = clipped.strip()
    if not stripped:
        return StackLine(line, Kind.TEXT)
    if stripped.startswith("Traceback (most recent call last)"):
        return StackLine(line, Kind.HEADER)
    if stripped.startswith(_CHAIN_PREFIXES) or stripped.startswith("[cause]:"):
        return StackLine(line, Kind.CHAIN)
    if _NOTE.match(clipped):
        return StackLine(line, Kind.NOTE)
    if previous and _under_python_frame(clipped, previous):
        return StackLine(line, Kind.SOURCE)
    if not clipped[0].isspace() and _EXCEPTION.match(clipped):
        return StackLine(line, Kind.EXCEPTION)
    return StackLine(line, Kind.TEXT)


SOURCE_LOOKBACK = 4
"""Lines a Python source or caret line may sit under its frame line."""


def _is_source_like(line: str) -> bool:
    return line.startswith("    ") and not line.lstrip().startswith(("at ", "File ", "..."))


def _under_python_frame(line: str, previous: list[str]) -> bool:
    """An indented line under a Python frame line, only source-like lines between them."""
    if not _is_source_like(line):
        return False
    for before in reversed(previous[-SOURCE_LOOKBACK:]):
        before = before[:MAX_LINE_CHARS]
        if _PY_FRAME.match(before) is not None:
            return True
        if not _is_source_like(before):
            return False
    return False


class Stack:
    """A stack's lines, each classified on first use (see the module docstring)."""

    def __init__(self, text: str) -> None:
        self.lines = LazyLines(
            text, MAX_LINES, "[… {hidden:,} more lines not shown: copy as JSON to get everything]"
        )
        """The raw lines (unsanitized, unclipped), split as they are read."""
        self.marked = IN_APP_MARK in text
        """Whether in-app frames carry ``(in app)`` (then unmarked Python-style frames are library)."""
        self._parsed: dict[int, StackLine] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> StackLine:
        """Line ``index``, classified (cached)."""
        found = self._parsed.get(index)
        if found is None:
            if len(self._parsed) >= PARSED_KEPT:
                self._parsed.clear()  # bounded: the view keeps its own cache of drawn lines
            previous = self.lines[max(0, index - SOURCE_LOOKBACK) : index]
            found = classify(self.lines[index], previous, marked=self.marked)
            self._parsed[index] = found
        return found

    def frames(self) -> list[Frame]:
        """Every frame, outermost first as written (walks the whole stack)."""
        return [frame for index in range(len(self.lines)) if (frame := self.line(index).frame) is not None]

    def library_runs(self) -> list[tuple[int, int, int]]:
        """``(start, end, frames)`` per run of library frames (with their source lines).

        Walks the whole stack without caching (a quicker path than ``line``: no objects
        kept); the UI runs it in a thread for big stacks.
        """
        runs: list[tuple[int, int, int]] = []
        start, frames = -1, 0
        marked = self.marked
        for index, line in enumerate(self.lines):
            if start >= 0 and _is_source_like(line):
                continue  # source lines under a hidden library frame stay hidden with it
            frame = parse_frame(line, marked=marked) if _MAY_BE_FRAME.search(line[:MAX_LINE_CHARS]) else None
            if frame is not None and not frame.in_app:
                start, frames = (index if start < 0 else start), frames + 1
            elif start >= 0:
                runs.append((start, index, frames))
                start, frames = -1, 0
        if start >= 0:
            runs.append((start, len(self.lines), frames))
        return runs


def stack_text(details: object) -> str | None:
    """The stack of an event's ``details``: ``exception.stack`` text, or a frame list as text.

    Frame lists (Sentry's ``{"frames": [...]}``, a bare list of frame objects, or
    ``{"values": [{type, value, stacktrace}]}``) become Python-style lines with in-app
    frames marked, the shape ``sidelog.ingest.sentry_items`` stores.
    """
    if not isinstance(details, dict):
        return None
    exception = details.get("exception")
    for holder in (exception, details):
        if not isinstance(holder, dict):
            continue
        for key in ("stack", "stacktrace", "traceback", "frames"):
            text = _as_text(holder.get(key))
            if text:
                return text
        values = holder.get("values")
        if holder is exception and isinstance(values, list):
            return _chain_text([value for value in values[-10:] if isinstance(value, dict)]) or None
    return None


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = value.get("frames")
    if isinstance(value, list):
        return "".join(frame_line(frame) for frame in value[-MAX_LIST_FRAMES:] if isinstance(frame, dict))
    return None


def _chain_text(values: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for index, value in enumerate(values):
        if index:
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n")
        frames = _as_text(value.get("stacktrace"))
        if frames:
            parts.append("Traceback (most recent call last):\n" + frames)
        kind, message = str(value.get("type") or "Error"), value.get("value")
        parts.append(f"{kind}: {message}\n" if message else f"{kind}\n")
    return "".join(parts)


def frame_line(frame: dict[str, Any]) -> str:
    """A Sentry frame object as a Python-style traceback line (plus its source line)."""
    path = frame.get("abs_path") or frame.get("filename") or frame.get("module") or "?"
    path = str(path)[:512].replace('"', "'").replace("\n", " ")
    lineno = frame.get("lineno")
    function = str(frame.get("function") or "?")[:256].replace("\n", " ")
    mark = IN_APP_MARK if frame.get("in_app") is True else ""
    text = f'  File "{path}", line {lineno if type(lineno) is int else "?"}, in {function}{mark}\n'
    source = frame.get("context_line")
    if isinstance(source, str) and source.strip():
        text += f"    {source.strip()[:512]}\n"
    return text


__all__ = [
    "IN_APP_MARK",
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "Frame",
    "Kind",
    "Stack",
    "StackLine",
    "classify",
    "frame_line",
    "is_library",
    "parse_frame",
    "stack_text",
]
