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

from sidelog.events import (
    DEFAULT_LIMITS,
    Event,
    EventError,
    InvalidValue,
    Limits,
    now_ms,
    parse_event,
)

_BOM = b"\xef\xbb\xbf"
# An HTTP request line (any method with a version, or a standard method without one)
# and the headers a browser or HTTP client sends. Narrow on purpose: a plain-text log
# line such as "ERROR disk full" or "Error: boom" is bad input (rejected, the
# connection stays open), not an HTTP request (the connection closes).
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
    ``_duplicate_key``). An escaped lone surrogate (``"\\ud800"``, which
    ``JSON.stringify`` emits for a cut emoji) must not cost the whole line: the
    document is decoded again leniently and only the array elements carrying one
    become ``InvalidValue`` (rejected by ``parse_event`` naming the field).
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = f"invalid JSON: {_orjson_reason(exc)}"
        if "surrogate" in str(exc):
            return _decode_with_lone_surrogates(raw, reason)
        raise EventError(reason) from None
    if isinstance(doc, dict | list):
        duplicate = _duplicate_key(doc, raw)
        if duplicate is not None:
            raise EventError(f"invalid JSON: duplicate key {duplicate!r}")
    return doc


def _orjson_reason(exc: orjson.JSONDecodeError) -> str:
    reason = str(exc.msg) if getattr(exc, "msg", None) else str(exc)
    if "depth limit" in reason or "recursion" in reason:
        return "nested too deeply"
    return f"{reason} (at byte {exc.pos})"


def _count_keys(doc: Any) -> int:
    """Keys in every object of ``doc`` (recursive; exact type tests, it runs per line)."""
    if type(doc) is dict:
        count = len(doc)
        children: Any = doc.values()
    else:
        count = 0
        children = doc
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            count += _count_keys(child)
    return count


_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')


def _duplicate_key(doc: Any, raw: bytes) -> str | None:
    """Exact duplicate-key detection with a fast path; returns a duplicated key.

    Every key token written without whitespace before its colon ends with ``":``,
    and ``":`` inside strings only adds to the count, so when no key has whitespace
    before its colon the raw count of ``":`` is at least the number of key tokens.
    If the decoded objects hold exactly that many keys, no key was lost to a
    duplicate (JSON.stringify, json.dumps and orjson all write keys that way).
    Otherwise the slow, exact check decides.
    """
    try:
        keys = _count_keys(doc)
    except RecursionError:  # orjson allows 1024 levels, Python recursion fewer
        keys = -1
    if keys == raw.count(b'":') and not _SPACED_COLON.search(raw):
        return None
    try:
        json.loads(raw, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | float:
    # orjson's rules: 64-bit integers stay integers, larger ones become doubles.
    value = int(text)
    if -(2**63) <= value < 2**64:
        return value
    return _parse_float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number is infinity when parsed as double")
    return value


def _decode_with_lone_surrogates(raw: bytes, reason: str) -> Any:
    """Decode a document orjson refused only for a lone surrogate (same strictness
    otherwise), rejecting just the event(s) that carry one."""
    try:
        doc = json.loads(
            raw.decode("utf-8"),  # strictly: json.loads(bytes) would let UTF-8 surrogates pass
            object_pairs_hook=_refuse_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except _DuplicateKey as exc:
        raise EventError(f"invalid JSON: duplicate key {exc.key!r}") from None
    except (ValueError, RecursionError):
        raise EventError(reason) from None
    if isinstance(doc, list):
        return [_surrogate_free(element) for element in doc]
    bad = _surrogate_field(doc)
    if bad is not None:
        raise EventError(bad)
    return doc


def _surrogate_free(element: Any) -> Any:
    bad = _surrogate_field(element)
    return element if bad is None else InvalidValue(bad)


def _surrogate_field(value: Any) -> str | None:
    """A reason naming the top-level field that holds a lone surrogate, or ``None``."""
    fields = value.items() if isinstance(value, dict) else [(None, value)]
    for key, item in fields:
        if key is not None and _SURROGATE.search(key):
            return f"field name {key!r} contains a lone surrogate (not valid Unicode)"
        stack = [item]
        while stack:
            current = stack.pop()
            if isinstance(current, str):
                if _SURROGATE.search(current):
                    where = "the event" if key is None else key
                    return f"{where} contains a lone surrogate (not valid Unicode)"
            elif isinstance(current, dict):
                stack.extend(current.keys())
                stack.extend(current.values())
            elif isinstance(current, list):
                stack.extend(current)
    return None


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    return "a number"
