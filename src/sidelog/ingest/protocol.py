"""The newline-delimited JSON wire protocol, as pure functions of bytes.

``LineDecoder`` turns whatever bytes a socket delivers into a list of items: events,
rejections (with the line number and a reason naming the field), sync requests, auth
lines and HTTP sightings. It holds at most one line limit of bytes per connection, so
an endless line without a newline cannot grow memory: the decoder rejects it as soon as
it passes the limit and skips to the next newline. No sockets here; the TCP and Unix
servers only move bytes (see ``tcp.py``) and the HTTP API reuses ``decode_json`` and
``decode_array``. A line that is not JSON but printable text becomes a text or logfmt
event (``sidelog.dialects``), stack traces joined.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sidelog.dialects import MultilineJoiner, Recognised, recognise_text, text_line
from sidelog.dialects.common import json_type
from sidelog.events import (
    DEFAULT_LIMITS,
    Event,
    EventError,
    Limits,
    now_ms,
    parse_event,
    parse_recognised,
)
from sidelog.ingest.strict_json import decode_json as decode_json

_BOM = b"\xef\xbb\xbf"
# An HTTP request line (any method with a version, or a standard method without one)
# and the headers a browser or HTTP client sends. Narrow on purpose: a plain-text log
# line such as "ERROR disk full" or "Error: boom" is a text event (the connection
# stays open), not an HTTP request (the connection closes).
_HTTP_REQUEST = re.compile(
    rb"^(?:[A-Z][A-Z-]{1,15} \S+ HTTP/\d(?:\.\d)?"
    rb"|(?:GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|CONNECT|TRACE) /\S*)$"
)
_HTTP_HEADER = re.compile(
    rb"^(?:host|user-agent|accept(?:-[a-z]+)?|origin|referer|cookie|connection|upgrade|"
    rb"content-(?:type|length|encoding)|transfer-encoding|sec-[a-z0-9-]+|cache-control|pragma|"
    rb"authorization|x-[a-z0-9-]+):[ \t]",
    re.IGNORECASE,
)


TEXT_BLOCK_BYTES = 256 * 1024
"""Most text held for one open multi-line block (a stack trace) per connection."""


@dataclass(slots=True)
class Rejection:
    """An input that was not stored, and why (sent back as ``{"error", "line"}``)."""

    line: int
    reason: str
    index: int | None = None
    """Position within a JSON array line (or HTTP body), when the line held several."""

    def to_reply(self) -> dict[str, Any]:
        """The reply object for socket clients."""
        reply: dict[str, Any] = {"error": self.reason, "line": self.line}
        if self.index is not None:
            reply["index"] = self.index
        return reply


@dataclass(slots=True)
class SyncRequest:
    """A ``{"sync": true}`` line: acknowledge once every earlier event is committed."""

    line: int


@dataclass(slots=True)
class AuthLine:
    """A ``{"auth": "…"}`` line, the socket equivalent of a bearer token."""

    line: int
    token: str


@dataclass(slots=True)
class HttpSighting:
    """A line that looks like an HTTP request or header: the connection must close."""

    line: int


Item = Event | Rejection | SyncRequest | AuthLine | HttpSighting


class LineDecoder:
    """Splits one connection's byte stream into lines and decodes each.

    Memory held between ``feed`` calls is bounded by ``limits.max_line_bytes`` plus
    one open text block (``TEXT_BLOCK_BYTES``). A line that is not JSON but printable
    text becomes a text or logfmt event (README "Already logging with pino, winston,
    structlog…?"); consecutive text lines of one stack trace are joined into one
    event, which is handed back when the next line does not continue it, at
    ``finish``, or when ``flush_text`` is called after the connection went quiet.
    ``dialect_counts`` (when given) counts every event read in a dialect, by name.
    """

    __slots__ = ("_buf", "_skipping", "_source", "_limits", "_clock", "line_no", "_counts", "_joiner")

    def __init__(
        self,
        *,
        default_source: str = "server",
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], int] = now_ms,
        dialect_counts: dict[str, int] | None = None,
    ) -> None:
        self._buf = bytearray()
        self._skipping = False
        self._source = default_source
        self._limits = limits
        self._clock = clock
        self._counts = dialect_counts
        self._joiner: MultilineJoiner | None = None
        self.line_no = 0
        """Number of lines seen so far (1-based numbering in replies)."""

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete line held until its newline arrives."""
        return len(self._buf)

    @property
    def holds_text(self) -> bool:
        """Whether a text block (a stack trace, perhaps) waits for ``flush_text``."""
        return self._joiner is not None and self._joiner.pending

    def feed(self, data: bytes) -> list[Item]:
        """Consume a chunk of bytes; return the items of every line it completed."""
        out: list[Item] = []
        if self._skipping:
            newline = data.find(b"\n")
            if newline < 0:
                return out
            data = data[newline + 1 :]
            self._skipping = False
        buf = self._buf
        start = len(buf)
        buf += data
        if buf.find(b"\n", start) >= 0:
            last = buf.rfind(b"\n")
            block = bytes(buf[:last])
            del buf[: last + 1]
            received_at = self._clock()
            for raw in block.split(b"\n"):
                self._decode_line(raw, received_at, out)
        if len(buf) > self._limits.max_line_bytes:
            self.line_no += 1
            out.append(Rejection(self.line_no, self._too_long()))
            buf.clear()
            self._skipping = True
        return out

    def finish(self) -> list[Item]:
        """End of stream: decode a final line that had no newline.

        A complete JSON document is accepted as usual; a torn one is rejected (and
        therefore counted) rather than silently dropped.
        """
        out: list[Item] = []
        if self._buf and not self._skipping:
            raw = bytes(self._buf)
            self._buf.clear()
            self._decode_line(raw, self._clock(), out, final=True)
        return out + self.flush_text()

    def flush_text(self, idle_s: float | None = None) -> list[Item]:
        """The text block still open, as an event; with ``idle_s``, only if no line came
        for that long. Call it from a timer while ``holds_text``: a stack trace is
        otherwise held until the next line shows it ended (or the connection ends)."""
        joiner = self._joiner
        if joiner is None or not joiner.pending:
            return []
        if idle_s is not None:
            joiner.idle_s = idle_s
        out: list[Item] = []
        self._text(None, 0, self._clock(), out, idle_s is not None)
        return out

    def _too_long(self) -> str:
        return f"line is longer than {self._limits.max_line_bytes} bytes; skipped to the next newline"

    def _decode_line(self, raw: bytes, received_at: int, out: list[Item], final: bool = False) -> None:
        self.line_no = line_no = self.line_no + 1
        if raw[:1] == b"{" and raw[-1:] == b"}" and (self._joiner is None or not self._joiner.pending):
            # The usual line, a compact object with no text block open: nothing to trim,
            # no HTTP line to look for (the general path below decides the same way).
            limits = self._limits
            if len(raw) <= limits.max_line_bytes:
                try:
                    doc = decode_json(raw)
                except EventError:
                    pass  # the general path words it (or reads the line as text)
                else:
                    self._object(doc, line_no, received_at, out)
                    return
        if len(raw) > self._limits.max_line_bytes:
            out.append(Rejection(line_no, self._too_long()))
            return
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw.startswith(_BOM):
            raw = raw[3:]
        line = raw  # a text line keeps its indentation: it says a line continues a stack
        raw = raw.strip()
        if not raw:
            if self._joiner is not None and self._joiner.pending:
                self._joiner.feed("")  # a blank line may sit inside a stack trace
            return
        if raw[0] not in b"{[" and (_HTTP_REQUEST.match(raw) or _HTTP_HEADER.match(raw)):
            out.append(HttpSighting(line_no))
            return
        try:
            doc = decode_json(raw)
        except EventError as exc:
            text = text_line(line.rstrip())
            if text is not None:
                self._text(text, line_no, received_at, out)
                return
            if self._joiner is not None and self._joiner.pending:
                self._text(None, 0, received_at, out)
            reason = str(exc)
            if final:
                reason = f"incomplete final line (no newline): {reason}"
            out.append(Rejection(line_no, reason))
            return
        if self._joiner is not None and self._joiner.pending:
            self._text(None, 0, received_at, out)  # text before this line comes first
        if isinstance(doc, dict):
            self._object(doc, line_no, received_at, out)
        elif isinstance(doc, list):
            out.extend(decode_array(doc, self._source, received_at, self._limits, line_no, self._counts))
        else:
            out.append(Rejection(line_no, f"a line must be a JSON object or array, got {json_type(doc)}"))

    def _object(self, doc: dict[str, Any], line_no: int, received_at: int, out: list[Item]) -> None:
        """A decoded JSON object: a sync or auth line, else an event (or its rejection)."""
        if "message" not in doc and "msg" not in doc and len(doc) == 1:
            if "sync" in doc:
                out.append(SyncRequest(line_no))
                return
            if "auth" in doc and isinstance(doc["auth"], str):
                out.append(AuthLine(line_no, doc["auth"]))
                return
        try:
            out.append(
                parse_event(
                    doc,
                    default_source=self._source,
                    received_at=received_at,
                    limits=self._limits,
                    dialect_counts=self._counts,
                )
            )
        except EventError as exc:
            out.append(Rejection(line_no, str(exc)))

    def _text(
        self, text: str | None, line_no: int, received_at: int, out: list[Item], idle: bool = False
    ) -> None:
        """Feed a text line to the joiner (``None``: end the open block) and append the
        events of the blocks it completed; a block's rejection names its first line."""
        joiner = self._joiner
        if joiner is None:
            joiner = self._joiner = MultilineJoiner(
                max_bytes=min(self._limits.max_line_bytes, TEXT_BLOCK_BYTES)
            )
        if text is not None:
            blocks = joiner.feed(text, ref=line_no)
        else:
            blocks = joiner.flush_idle() if idle else joiner.flush()
        for block in blocks:
            outcome = recognise_text(block.text)
            ref = block.ref if isinstance(block.ref, int) else line_no
            if not isinstance(outcome, Recognised):
                out.append(Rejection(ref, str(outcome)))
                continue
            try:
                out.append(parse_recognised(outcome, self._source, received_at, self._limits, self._counts))
            except EventError as exc:
                out.append(Rejection(ref, str(exc)))


def decode_array(
    doc: list[Any],
    source: str,
    received_at: int,
    limits: Limits,
    line_no: int,
    dialect_counts: dict[str, int] | None = None,
) -> list[Event | Rejection]:
    """Validate each element of an array of events separately."""
    out: list[Event | Rejection] = []
    for index, element in enumerate(doc):
        try:
            event = parse_event(
                element,
                default_source=source,
                received_at=received_at,
                limits=limits,
                dialect_counts=dialect_counts,
            )
            out.append(event)
        except EventError as exc:
            out.append(Rejection(line_no, str(exc), index))
    return out
