"""The newline-delimited JSON wire protocol, as pure functions of bytes.

``LineDecoder`` turns whatever bytes a socket delivers into a list of items: events,
rejections (with the line number and a reason naming the field), sync requests, auth
lines and HTTP sightings. It holds at most one line limit of bytes per connection, so
an endless line without a newline cannot grow memory: the decoder rejects it as soon as
it passes the limit and skips to the next newline. No sockets here; the TCP and Unix
servers only move bytes (see ``tcp.py``) and the HTTP API reuses ``decode_document``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from sidelog.events import DEFAULT_LIMITS, Event, EventError, Limits, now_ms, parse_event

_BOM = b"\xef\xbb\xbf"
_HTTP_REQUEST = re.compile(rb"^[A-Z][A-Z-]{1,15} \S+(?: HTTP/\d(?:\.\d)?)?$")
_HTTP_HEADER = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]")


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

    Memory held between ``feed`` calls is bounded by ``limits.max_line_bytes``.
    """

    __slots__ = ("_buf", "_skipping", "_source", "_limits", "_clock", "line_no")

    def __init__(
        self,
        *,
        default_source: str = "server",
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._buf = bytearray()
        self._skipping = False
        self._source = default_source
        self._limits = limits
        self._clock = clock
        self.line_no = 0
        """Number of lines seen so far (1-based numbering in replies)."""

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete line held until its newline arrives."""
        return len(self._buf)

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
        return out

    def _too_long(self) -> str:
        return f"line is longer than {self._limits.max_line_bytes} bytes; skipped to the next newline"

    def _decode_line(self, raw: bytes, received_at: int, out: list[Item], final: bool = False) -> None:
        self.line_no += 1
        line_no = self.line_no
        if len(raw) > self._limits.max_line_bytes:
            out.append(Rejection(line_no, self._too_long()))
            return
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw.startswith(_BOM):
            raw = raw[3:]
        raw = raw.strip()
        if not raw:
            return
        if raw[0] not in b"{[" and (_HTTP_REQUEST.match(raw) or _HTTP_HEADER.match(raw)):
            out.append(HttpSighting(line_no))
            return
        try:
            doc = decode_json(raw)
        except EventError as exc:
            reason = str(exc)
            if final:
                reason = f"incomplete final line (no newline): {reason}"
            out.append(Rejection(line_no, reason))
            return
        if isinstance(doc, dict):
            if "message" not in doc and "msg" not in doc:
                if "sync" in doc and len(doc) == 1:
                    out.append(SyncRequest(line_no))
                    return
                if "auth" in doc and len(doc) == 1 and isinstance(doc["auth"], str):
                    out.append(AuthLine(line_no, doc["auth"]))
                    return
            try:
                out.append(
                    parse_event(
                        doc,
                        default_source=self._source,
                        received_at=received_at,
                        limits=self._limits,
                    )
                )
            except EventError as exc:
                out.append(Rejection(line_no, str(exc)))
        elif isinstance(doc, list):
            out.extend(decode_array(doc, self._source, received_at, self._limits, line_no))
        else:
            out.append(Rejection(line_no, f"a line must be a JSON object or array, got {_kind(doc)}"))


def decode_array(
    doc: list[Any], source: str, received_at: int, limits: Limits, line_no: int
) -> list[Event | Rejection]:
    """Validate each element of an array of events separately."""
    out: list[Event | Rejection] = []
    for index, element in enumerate(doc):
        try:
            out.append(parse_event(element, default_source=source, received_at=received_at, limits=limits))
        except EventError as exc:
            out.append(Rejection(line_no, str(exc), index))
    return out


def decode_json(raw: bytes) -> Any:
    """Strictly decode one JSON document, or raise ``EventError`` with the reason.

    orjson already refuses invalid UTF-8, lone surrogates, NaN/Infinity, numbers
    that overflow a double and nesting past 1024 levels. Duplicate object keys are
    the one thing it accepts silently, so they are checked here (see
    ``_has_duplicate_keys``).
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventError(f"invalid JSON: {_orjson_reason(exc)}") from None
    if isinstance(doc, dict | list) and _has_duplicate_keys(doc, raw):
        raise EventError("invalid JSON: an object has a duplicate key")
    return doc


def _orjson_reason(exc: orjson.JSONDecodeError) -> str:
    reason = str(exc.msg) if getattr(exc, "msg", None) else str(exc)
    if "depth limit" in reason or "recursion" in reason:
        return "nested too deeply"
    return f"{reason} (at byte {exc.pos})"


def _count_keys(doc: Any) -> int:
    count = 0
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        else:
            stack.extend(v for v in item if isinstance(v, dict | list))
    return count


def _has_duplicate_keys(doc: Any, raw: bytes) -> bool:
    """Exact duplicate-key detection with a fast path.

    Every key token ends with ``"`` followed by ``:``, so the count of ``":`` in
    the raw text is at least the number of key tokens when keys are written without
    a space before the colon (JSON.stringify, json.dumps, orjson all do that). If
    the decoded objects hold exactly that many keys, no key was lost to a
    duplicate. Otherwise (spaces before colons, ``":`` inside strings, or a real
    duplicate) the slow, exact check decides.
    """
    if _count_keys(doc) == raw.count(b'":'):
        return False
    try:
        json.loads(raw, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey:
        return True
    except (ValueError, RecursionError):
        return False
    return False


class _DuplicateKey(Exception):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    return "a number"
