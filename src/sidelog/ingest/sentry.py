"""Sentry envelopes in, native events out (README "Already using Sentry or OpenTelemetry?").

The framing is that of Sentry's developer documentation ("Envelopes") and of the
SDKs' own readers (``sentry_sdk/envelope.py``): one JSON header line, then items,
each a JSON header line with ``type`` and an optional ``length``, then the payload:
exactly ``length`` bytes, or everything up to the next newline when ``length`` is
absent; a newline ends each part (optional at the very end of the envelope).

``EnvelopeReader`` is a push parser. The HTTP handler feeds it each decompressed
piece as it arrives, and it holds at most one header line (≤ 64 KiB) and one kept
payload (≤ ``max_line_bytes``, 1 MiB by default): an oversized item, an
attachment or a profile streams past without being buffered, so memory stays
bounded whatever the envelope's size. Bad input costs as little as possible:

* an envelope header that is not a JSON object refuses the envelope (``PayloadError``, 400);
* an item too large, without ``type``, past the ``MAX_ITEMS``-th, or truncated
  (``length`` running past the body) is skipped with a reason, the rest kept;
* an item header that is not JSON makes the rest of the envelope unreadable: the
  items before it are kept, the rest is skipped as one rejection.

What each item becomes is ``sentry_items``' business; this module only frames,
dispatches and counts. No aiohttp here: the handlers live in ``http_sentry``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from sidelog.events import Event, EventError
from sidelog.ingest.receiver import MAX_KINDS, Converted, PayloadError, clip
from sidelog.ingest.sentry_items import STORED_TYPES, ItemContext, event_from_sentry, sdk_name_of
from sidelog.ingest.sentry_spans import log_entries, streamed_spans, transaction_events

__all__ = [
    "MAX_ITEMS",
    "EnvelopeReader",
    "EnvelopeResult",
    "Rejection",
    "convert_item",
    "parse_envelope",
    "store_events",
]

MAX_ITEMS = 1000
"""Items read from one envelope; later ones are skipped and counted as rejected.
(The SDKs send a handful: an event with its attachments, a batch of logs.)"""
MAX_HEADER_BYTES = 64 * 1024
"""Longest envelope or item header line."""
MAX_LISTED = 100
"""Rejections listed in an answer; ``rejected_count`` has them all."""

_ENVELOPE_HEADER, _ITEM_HEADER, _PAYLOAD_LENGTH, _PAYLOAD_END, _PAYLOAD_LINE, _DISCARD = range(6)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One item (or log entry) refused, and why."""

    index: int
    type: str
    error: str

    def to_wire(self) -> dict[str, object]:
        """As listed in the HTTP answer."""
        return {"index": self.index, "type": self.type, "error": self.error}


@dataclass(slots=True)
class EnvelopeResult:
    """What one envelope became."""

    header: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    """The first ``MAX_LISTED`` rejections."""
    rejected_count: int = 0
    counted: dict[str, int] = field(default_factory=dict)
    """Items received but not stored, by ``sentry.<type>``."""
    items: int = 0
    """Items seen (stored, counted or rejected)."""

    @property
    def event_id(self) -> str | None:
        """The envelope's ``event_id``: what Sentry answers with."""
        value = self.header.get("event_id")
        return value if isinstance(value, str) else None

    def reject(self, index: int, kind: str, reason: str, count: int = 1) -> None:
        """Record ``count`` refused records of item ``index``."""
        self.rejected_count += count
        if len(self.rejections) < MAX_LISTED:
            self.rejections.append(Rejection(index, kind, reason))


class EnvelopeReader:
    """Incremental envelope framing: ``feed`` pieces, then ``finish`` for the result."""

    def __init__(self, context: ItemContext, *, max_items: int = MAX_ITEMS) -> None:
        self._context = context
        self._max_items = max_items
        self._max_item = context.limits.max_line_bytes
        self._budget = 16 * context.limits.max_line_bytes
        """Payload bytes converted per envelope: bounds the events one request can hold."""
        self._buf = bytearray()
        self._scan = 0
        self._state = _ENVELOPE_HEADER
        self._result = EnvelopeResult()
        # the item being read
        self._index = -1
        self._kind = ""
        self._keep = False
        self._skip: str | None = None
        self._remaining = 0
        self._payload = bytearray()

    def feed(self, data: bytes) -> None:
        """Take the next piece of the (decompressed) body; raises ``PayloadError`` for a bad header."""
        if self._state == _DISCARD:
            return
        self._buf += data
        self._run(final=False)

    def finish(self) -> EnvelopeResult:
        """The result, once the body has ended (a truncated last item is rejected here)."""
        self._run(final=True)
        state = self._state
        if state == _PAYLOAD_LENGTH:
            self._result.reject(
                self._index,
                self._kind,
                f"item {self._index} ({self._kind}) declares length {self._remaining + len(self._payload)}"
                f" but the envelope ends {self._remaining} bytes short",
            )
        elif state in (_PAYLOAD_END, _PAYLOAD_LINE):
            self._deliver()
        return self._result

    # ------------------------------------------------------------- framing

    def _line(self, final: bool) -> bytes | None:
        """The next complete line (without its newline), or ``None`` to wait for more."""
        buf = self._buf
        end = buf.find(b"\n", self._scan)
        if end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                end = -2
            elif not final or not buf:
                self._scan = len(buf)
                return None
            else:
                end = len(buf)
        self._scan = 0
        if end == -2:
            del buf[:]
            return b""  # over-long: the caller sees an unparseable header
        line = bytes(buf[:end])
        del buf[: end + 1]
        return line

    def _run(self, final: bool) -> None:
        buf = self._buf
        while True:
            state = self._state
            if state == _ENVELOPE_HEADER:
                if final and not buf.strip():
                    raise PayloadError(
                        400, "empty body: expected a Sentry envelope (a JSON header line, then items)"
                    )
                line = self._line(final)
                if line is None:
                    return
                self._read_envelope_header(line)
            elif state == _ITEM_HEADER:
                while buf and buf[0] in (0x0A, 0x0D):
                    del buf[:1]  # blank lines between items
                if not buf:
                    return
                line = self._line(final)
                if line is None:
                    return
                self._start_item(line)
            elif state == _PAYLOAD_LENGTH:
                take = min(self._remaining, len(buf))
                if take == 0 and self._remaining:
                    return
                if self._keep:
                    if self._payload:
                        self._payload += buf[:take]
                    else:  # usually the whole payload at once: one copy, not two
                        self._payload = buf[:take]
                del buf[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _PAYLOAD_END
            elif state == _PAYLOAD_END:
                if not buf:
                    return
                if buf[0] == 0x0A:
                    del buf[:1]
                self._deliver()
            elif state == _PAYLOAD_LINE:
                end = buf.find(b"\n")
                if end < 0 and not final:
                    self._absorb(len(buf))
                    return
                self._absorb(len(buf) if end < 0 else end)
                if end >= 0:
                    del buf[:1]
                if end < 0 and final:
                    return
                self._deliver()
            else:
                buf.clear()
                return

    def _absorb(self, count: int) -> None:
        """Move ``count`` bytes of a newline-terminated payload out of the buffer."""
        if self._keep:
            size = len(self._payload) + count
            if size > self._max_item:
                self._keep = False
                self._payload = bytearray()
                self._skip = self._too_large(size, "at least ")
            else:
                self._payload += self._buf[:count]
        del self._buf[:count]

    # --------------------------------------------------------------- items

    def _read_envelope_header(self, line: bytes) -> None:
        try:
            header = orjson.loads(line) if line else None
        except orjson.JSONDecodeError:
            header = None
        if not isinstance(header, dict):
            raise PayloadError(
                400, "the envelope header (first line) must be a JSON object; is this a Sentry envelope?"
            )
        self._result.header = header
        # The header's DSN names the project the SDK was set up for; this is a local
        # inbox, so it is ignored (whatever host it names) and only the SDK name is used.
        sdk = sdk_name_of(header.get("sdk"))
        if sdk is not None:
            self._context = dataclasses.replace(self._context, sdk_name=sdk)
        self._state = _ITEM_HEADER

    def _start_item(self, line: bytes) -> None:
        result = self._result
        self._index = index = result.items
        result.items += 1
        try:
            header = orjson.loads(line) if line else None
        except orjson.JSONDecodeError:
            header = None
        length = header.get("length") if isinstance(header, dict) else None
        if not isinstance(header, dict) or (length is not None and (type(length) is not int or length < 0)):
            what = "header is not a JSON object" if not isinstance(header, dict) else "length is not a count"
            result.reject(index, "?", f"item {index} {what}; the rest of the envelope was skipped")
            self._state = _DISCARD
            self._buf.clear()
            return
        kind = header.get("type")
        self._keep = False
        self._skip = None
        self._payload = bytearray()
        if not isinstance(kind, str) or not kind.strip():
            self._kind = "?"
            self._skip = f"item {index} has no type"
        else:
            self._kind = kind = clip(kind.strip().lower(), 40)
            if kind in STORED_TYPES:
                if index >= self._max_items:
                    self._skip = f"more than {self._max_items} items in one envelope; item {index} skipped"
                elif length is not None and length > self._max_item:
                    self._skip = self._too_large(length)
                elif self._budget <= 0:
                    carried = 16 * self._max_item
                    self._skip = (
                        f"item {index} skipped: this envelope already carried {carried} bytes of events"
                    )
                else:
                    self._keep = True
        if length is None:
            self._state = _PAYLOAD_LINE
        else:
            self._remaining = length
            self._state = _PAYLOAD_LENGTH if length else _PAYLOAD_END

    def _too_large(self, size: int, qualifier: str = "") -> str:
        return (
            f"item {self._index} ({self._kind}) is {qualifier}{size} bytes, over the {self._max_item}-byte"
            " limit (SIDELOG_MAX_LINE_BYTES); skipped"
        )

    def _deliver(self) -> None:
        """The item is complete: convert it, count it, or record why it was skipped."""
        self._state = _ITEM_HEADER
        result, index, kind = self._result, self._index, self._kind
        if self._skip is not None:
            result.reject(index, kind, self._skip)
            return
        if not self._keep:
            key = "sentry." + kind
            if key not in result.counted and len(result.counted) >= MAX_KINDS:
                key = "sentry.other"  # endless invented types cannot grow the answer
            result.counted[key] = result.counted.get(key, 0) + 1
            return
        payload = self._payload
        self._payload = bytearray()
        self._budget -= len(payload)
        converted = convert_item(kind, payload, self._context)
        result.events.extend(converted.events)
        for reason in converted.rejected:
            result.reject(index, kind, f"item {index} ({kind}): {reason}")
        for key, count in converted.counted.items():
            result.counted[key] = result.counted.get(key, 0) + count


def parse_envelope(data: bytes, context: ItemContext, *, max_items: int = MAX_ITEMS) -> EnvelopeResult:
    """A whole (decompressed) envelope at once: for tests, the bench and the store route."""
    reader = EnvelopeReader(context, max_items=max_items)
    reader.feed(data)
    return reader.finish()


def store_events(body: bytes, context: ItemContext) -> tuple[Converted, str | None]:
    """The legacy ``/api/<project>/store/`` body (one event) as events, with its ``event_id``.

    The body is the event's JSON; the oldest SDKs (raven) sent it zlib-compressed
    and base64-encoded, which is accepted too, inflated within the same limit.
    """
    text = body.strip()
    if not text:
        raise PayloadError(400, "empty body: expected one Sentry event as JSON")
    if not text.startswith((b"{", b"[")):
        text = _legacy_body(text, context.limits.max_line_bytes)
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(400, f"the body is not a JSON event ({exc})") from None
    if not isinstance(doc, dict):
        raise PayloadError(400, "the body must be one Sentry event (a JSON object)")
    context = dataclasses.replace(context, sdk_name=sdk_name_of(doc.get("sdk")) or context.sdk_name)
    kind = "transaction" if doc.get("type") == "transaction" else "event"
    event_id = doc.get("event_id")
    return convert_item(kind, text, context), event_id if isinstance(event_id, str) else None


def _legacy_body(text: bytes, limit: int) -> bytes:
    """Base64 of zlib-compressed JSON (raven's store bodies), decoded within ``limit`` bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj()
        out = inflater.decompress(raw, limit + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise PayloadError(400, "the body is neither a JSON event nor base64 of a compressed one") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadError(413, f"decompressed event larger than {limit} bytes (SIDELOG_MAX_LINE_BYTES)")
    return out


def convert_item(kind: str, payload: bytes | bytearray, ctx: ItemContext) -> Converted:
    """The events (and counts, and rejections) of one item of a stored type.

    A shape no rule foresaw (a list where an object belongs…) rejects the item with
    a reason instead of failing the request.
    """
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return Converted(rejected=[f"payload is not JSON ({exc})"])
    if not isinstance(doc, dict):
        return Converted(rejected=["payload must be a JSON object"])
    try:
        if kind == "transaction" or doc.get("type") == "transaction":
            return transaction_events(doc, ctx)
        if kind == "event":
            return Converted(events=[event_from_sentry(doc, ctx)])
        if kind == "log":
            return log_entries(doc, ctx)
        return streamed_spans(doc, ctx)
    except EventError as exc:
        return Converted(rejected=[str(exc)])
    except Exception as exc:  # a shape no rule foresaw: the item is refused, never the request
        return Converted(rejected=[f"unexpected shape ({type(exc).__name__}: {str(exc)[:200]})"])
