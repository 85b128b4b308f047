"""Where captured and imported lines go: the ``Sink`` protocol and the line → event rule.

``sidelog run`` and ``sidelog import`` produce ``SourceLine``s; a sink turns them
into events (``line_to_event``) and gets them stored. ``TcpSink``
(``sources/tcp_sink.py``) sends them to a running sidelog; an in-process engine
can implement the same protocol later without touching the sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import orjson

from sidelog.dialects import MARKERS, Recognised, clean, line_level, recognise, recognise_text

DEFAULT_ADDRESS = "127.0.0.1:7411"


MAX_EVENT_BYTES = 1024 * 1024
"""Largest encoded event: the server's default line limit."""


class Converted(NamedTuple):
    """A line as the NDJSON event to send, and which dialect it was read as."""

    wire: bytes
    dialect: str


def line_to_event(
    line: str,
    *,
    stream: str,
    name: str,
    key: str | None,
    source: str = "run",
    max_bytes: int = MAX_EVENT_BYTES,
) -> Converted | None:
    """How one raw text line (or a joined block, ``sources/join.py``) becomes an event.

    A JSON object in sidelog's own format is sent as it is, with ``key`` added as its
    ``id`` unless it has one; one in a logger's dialect (pino, structlog…,
    ``sidelog.dialects.recognise``) is sent already read, so what the line does not say
    itself comes from where it was read: its ``source`` (``run``, ``import``) and,
    unless the line names its own ``category``, ``name``. Anything else is read by the
    dialects' text classifier (``sidelog.dialects.recognise_text``: level words,
    logfmt, stack traces, colour codes stripped); when the text states no level,
    stderr means ``warn`` and stdout ``info``. ``None`` for a blank line.
    """
    stripped = line.strip()
    if not stripped:
        return None
    if stripped[0] == "{" and stripped[-1] == "}":
        try:
            obj = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            recognised = _dialect(obj)
            if recognised is not None:
                event = recognised.event
                event.setdefault("category", name)
                event["source"] = source
                if key is not None:
                    event["id"] = key
                return Converted(_encode(event, max_bytes), recognised.dialect)
            wire = stripped.encode()
            # What the object does not say itself comes from where the line was read.
            head = {"id": key} if key is not None and "id" not in obj else {}
            if "category" not in obj:
                head["category"] = name
            if "source" not in obj:
                head["source"] = source
            if head:
                prefix = orjson.dumps(head)[:-1]
                wire = prefix + (b"," + wire[1:] if obj else b"}")
            return Converted(wire, "json")
    outcome = recognise_text(line)
    if isinstance(outcome, Recognised):
        event, dialect = outcome.event, outcome.dialect
        if (
            stream == "stderr"
            and event.get("type") == "info"
            and line_level(stripped.split("\n", 1)[0]) is None
        ):
            event["type"] = "warn"
    elif not clean(stripped).strip():
        return None  # nothing but escape or control codes
    else:  # never expected: recognise_text rejects only empty text; store it plainly anyway
        event, dialect = {"message": stripped, "type": "warn" if stream == "stderr" else "info"}, "text"
    event.setdefault("category", name)
    event.setdefault("source", source)
    if key is not None:
        event["id"] = key
    return Converted(_encode(event, max_bytes), dialect)


def _dialect(obj: dict[str, Any]) -> Recognised | None:
    """``obj`` read in a logger's dialect, or ``None`` for a native event (or a broken line).

    The same rule as the server's (``sidelog.events.parse_event``): an object with a
    string message, a string level (or none) and no key only loggers write is native
    and costs nothing more; a broken dialect line (``Rejected``) is sent as it is, so
    the server answers with its reason.
    """
    message = obj["message"] if "message" in obj else obj.get("msg")
    level = obj["type"] if "type" in obj else obj.get("level", "")
    if type(message) is str and type(level) is str and MARKERS.isdisjoint(obj):
        return None
    outcome = recognise(obj)
    return outcome if isinstance(outcome, Recognised) else None


def _encode(event: dict[str, Any], max_bytes: int) -> bytes:
    """``event`` as one NDJSON line, its message shortened if escaping grew it past ``max_bytes``."""
    wire = orjson.dumps(event)
    for _ in range(4):  # each pass removes at least the excess; what cannot fit is the server's to reject
        if len(wire) <= max_bytes:
            break
        message = str(event["message"])
        keep = max(len(message) - (len(wire) - max_bytes) - 64, 0)
        event["message"] = message[:keep] + f" …[cut: {len(message) - keep} chars to fit]"
        wire = orjson.dumps(event)
    return wire


class SinkError(RuntimeError):
    """The sink cannot deliver; the message is the one line to show."""


@dataclass(slots=True)
class SourceLine:
    """One line of captured or imported text, with what the event needs to say about it.

    Treat it as a value (``dataclasses.replace`` makes a changed copy). Not frozen only
    because one is made per line imported and a frozen dataclass costs five times as
    much to build.
    """

    text: str
    stream: str = "stdout"
    """``stdout``, ``stderr``, ``file`` or ``stdin``: decides the default level of plain text."""
    name: str = "general"
    """The event's category: the ``--name``, the command's or the file's name."""
    key: str | None = None
    """Idempotency key (the event's ``id``); ``None`` for live output that cannot be replayed."""
    source: str = "run"
    """The event's ``source`` for plain-text lines."""


@dataclass(slots=True)
class Summary:
    """What happened to the lines handed to a sink (counts confirmed by the server)."""

    lines: int = 0
    events: int = 0
    """Ready-made events handed on beside the lines (a child's start and exit)."""
    blank: int = 0
    """Blank lines: skipped, an event needs a message."""
    sent: int = 0
    stored: int = 0
    """Committed, including events already stored under the same idempotency key."""
    duplicates: int = 0
    """Of ``stored``: events already stored under the same idempotency key (nothing added)."""
    rejected: int = 0
    filtered: int = 0
    rate_limited: int = 0
    failed: int = 0
    lost: int = 0
    """Sent or produced while the connection was down, never confirmed."""
    dialects: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    def describe(self) -> str:
        """One line for a terminal, naming only the counts that are not zero.

        Counts events (a joined stack trace is one); the caller says how many lines it read.
        """
        stored = f"stored {self.stored:,}"
        if self.duplicates:
            stored += f" ({self.duplicates:,} were already there: nothing added for those)"
        parts = [f"{self.sent:,} events sent", stored]
        for label in ("rejected", "filtered", "rate_limited", "failed", "lost", "blank"):
            # blank: lines skipped (an event needs a message)
            value = getattr(self, label)
            if value:
                parts.append(f"{label.replace('_', ' ')} {value:,}")
        text = ", ".join(parts)
        if self.dialects:
            text += " · " + ", ".join(f"{name} {count:,}" for name, count in sorted(self.dialects.items()))
        if self.first_error:
            text += f" · first rejection: {self.first_error}"
        return text


class Sink(Protocol):
    """Where lines go. ``lines`` may wait (backpressure); ``flush`` waits for the server's word."""

    @property
    def summary(self) -> Summary:
        """The counts so far, for a progress display (confirmed ones as of the latest reply)."""

    async def lines(self, batch: Sequence[SourceLine]) -> None:
        """Convert and send a batch of lines."""

    async def events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Send ready-made events (lifecycle facts such as a child starting or exiting)."""

    async def flush(self) -> Summary:
        """Return once everything handed on so far is confirmed; the counts so far."""

    async def close(self) -> Summary:
        """Flush and let go of the connection; the final counts."""
