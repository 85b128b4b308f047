"""What the Sentry and OpenTelemetry receivers share (README "Already using Sentry or OpenTelemetry?").

Both receivers turn another tool's payloads into native events. They build the
same wire dict an app would send and run it through ``parse_event``, so every
limit of README "The event" applies to them as to ``POST /v1/events``. Foreign
payloads are shaped by SDKs we do not control, so this module also bounds them
first: strings that go into size-limited fields are clipped rather than making the
event fail, and JSON nested deeper than ``details`` allows is cut (``"…"``), so one
deep context never costs the user an error report.

``BodyDecoder`` inflates a request body piece by piece with a hard cap on the
output, so a compression bomb costs at most one piece of memory however large it
claims to be. Nothing here imports aiohttp: the handlers feed it.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sidelog.events import Event, Limits, parse_event
from sidelog.levels import LEVEL_ALIASES

__all__ = [
    "CUT",
    "BodyDecoder",
    "Converted",
    "PayloadError",
    "ReceiverCounts",
    "bounded",
    "build_event",
    "clip",
    "hashed_fingerprint",
    "level_of",
    "ms_from_seconds",
    "ms_from_nanos",
]

CUT = "…"
"""What replaces JSON nested deeper than ``details`` may go."""

PIECE = 64 * 1024
"""Largest piece ``BodyDecoder`` hands out at once."""

MAX_KINDS = 64
"""Distinct kinds ``ReceiverCounts`` tracks; rarer names add up under ``other``."""


class PayloadError(Exception):
    """A body refused as a whole; the handlers answer ``status`` with ``{"error": reason}``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class ReceiverCounts:
    """Items received on purpose but not stored (sessions, profiles, healthy spans…), by kind.

    Keys are ``sentry.<item type>`` and ``otlp.span``. A sender naming endless item
    types cannot grow the table: past ``MAX_KINDS`` kinds they count as ``sentry.other``.
    """

    counted: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        """Count ``count`` items of ``kind``."""
        table = self.counted
        if kind not in table and len(table) >= MAX_KINDS:
            kind = kind.split(".", 1)[0] + ".other"
        table[kind] = table.get(kind, 0) + count

    def merge(self, counts: dict[str, int]) -> None:
        """Add one request's counts."""
        for kind, count in counts.items():
            self.add(kind, count)

    def as_dict(self) -> dict[str, int]:
        """A copy of the table (for ``/v1/health``)."""
        return dict(self.counted)


@dataclass(slots=True)
class Converted:
    """What one request (or one item) became."""

    events: list[Event] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    """Why each refused record was refused (one entry per record)."""
    counted: dict[str, int] = field(default_factory=dict)
    """Records received but not stored, by kind (see ``ReceiverCounts``)."""

    def count(self, kind: str, n: int = 1) -> None:
        """Count ``n`` records of ``kind`` as received, not stored."""
        self.counted[kind] = self.counted.get(kind, 0) + n

    def extend(self, other: Converted) -> None:
        """Fold ``other`` into this result."""
        self.events.extend(other.events)
        self.rejected.extend(other.rejected)
        for kind, n in other.counted.items():
            self.count(kind, n)


# --------------------------------------------------------------------- events


def build_event(
    wire: dict[str, Any],
    *,
    limits: Limits,
    received_at: int,
    fingerprint: str | None = None,
) -> Event:
    """Validate ``wire`` as ``POST /v1/events`` would; ``fingerprint`` replaces the computed key.

    Raises ``sidelog.events.EventError`` naming the field at fault. Fields limited
    to ``max_field_bytes`` are clipped first: a long URL must not cost the event.
    """
    limit = limits.max_field_bytes
    short = limit // 4  # a str this short is within the limit in any encoding
    for name in ("userId", "sessionId", "url", "userAgent", "category", "source"):
        value = wire.get(name)
        if value is None or (
            type(value) is str
            and len(value) <= short
            and "\x00" not in value
            and value
            and not value.isspace()
        ):
            continue
        text = clip(str(value), limit).replace("\x00", "")
        if name in ("category", "source") and not text.strip():
            del wire[name]
        else:
            wire[name] = text
    event = parse_event(wire, default_source="api", received_at=received_at, limits=limits)
    if fingerprint is not None and event.level == "error":
        event.fingerprint = fingerprint
    return event


def hashed_fingerprint(parts: list[str]) -> str:
    """An error-group key from a sender's own grouping parts (Sentry ``fingerprint``)."""
    key = "\x1f".join(["sender", *parts])
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def level_of(value: object, default: str) -> str:
    """A stored level from a foreign level name (``warning``, ``fatal``, ``trace``…), else ``default``."""
    if isinstance(value, str):
        return LEVEL_ALIASES.get(value.strip().lower(), default)
    return default


def clip(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes (on a character boundary)."""
    if len(text) * 4 <= max_bytes:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode("utf-8", "ignore") + CUT


def bounded(value: Any, levels: int) -> Any:
    """``value`` with containers nested deeper than ``levels`` replaced by ``CUT``.

    ``levels`` counts the containers allowed, this one included; scalars always pass.
    """
    kind = type(value)
    if kind is dict:
        if levels <= 0:
            return CUT
        return {str(k): bounded(v, levels - 1) for k, v in value.items()}
    if kind is list:
        if levels <= 0:
            return CUT
        return [bounded(v, levels - 1) for v in value]
    return value


def ms_from_seconds(value: object) -> int | None:
    """Milliseconds from Sentry's timestamps: seconds since the epoch (a number) or RFC 3339."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        ms = value * 1000
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = parsed.timestamp() * 1000
    else:
        return None
    return int(ms) if 0 <= ms <= 253_402_300_799_999 else None


def ms_from_nanos(value: int) -> int | None:
    """Milliseconds from OTLP's nanoseconds since the epoch; ``None`` for 0 (unset)."""
    ms = value // 1_000_000
    return ms if 0 < ms <= 253_402_300_799_999 else None


# ------------------------------------------------------------------ bodies


class BodyDecoder:
    """Streaming decompression of a request body with a cap on the total output.

    ``feed`` returns the decompressed bytes of one received chunk, at most ``PIECE``
    at a time from the inflater, so a small compressed chunk that expands enormously
    is stopped as soon as the running total passes ``limit``. Supports the
    encodings the SDKs send: none, ``gzip``, ``deflate`` (zlib-wrapped or raw) and
    ``br`` (the Python Sentry SDK sends brotli whenever the app has the ``brotli``
    package).
    """

    def __init__(self, encoding: str, limit: int, what: str = "body") -> None:
        self.limit = limit
        self.total = 0
        self._what = what
        self._encoding = encoding.strip().lower()
        self._zlib: Any = None
        self._brotli: Any = None
        if self._encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._encoding == "br":
            import brotli

            self._brotli = brotli.Decompressor()
        elif self._encoding not in ("", "identity", "deflate"):
            raise PayloadError(
                415, f"Content-Encoding {encoding[:40]!r} is not supported; use gzip, deflate, br or none"
            )

    def feed(self, data: bytes) -> list[bytes]:
        """The decompressed pieces of ``data`` (raises ``PayloadError`` past the limit)."""
        if not data:
            return []
        encoding = self._encoding
        if encoding in ("", "identity"):
            return [self._count(data)]
        if encoding == "deflate" and self._zlib is None:
            zlib_wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        try:
            if self._brotli is not None:
                return self._feed_brotli(data)
            return self._feed_zlib(data)
        except PayloadError:
            raise
        except Exception as exc:  # zlib.error, brotli.error: corrupt input
            raise PayloadError(400, f"{self._what} is not valid {encoding} data: {exc}") from None

    def finish(self) -> None:
        """Raise ``PayloadError`` if the compressed stream ended early."""
        if self._zlib is not None and not self._zlib.eof:
            raise PayloadError(400, f"compressed {self._what} is truncated")
        if self._brotli is not None and not self._brotli.is_finished():
            raise PayloadError(400, f"compressed {self._what} is truncated")

    def _count(self, piece: bytes) -> bytes:
        self.total += len(piece)
        if self.total > self.limit:
            raise PayloadError(413, f"decompressed {self._what} larger than {self.limit} bytes")
        return piece

    def _feed_zlib(self, data: bytes) -> list[bytes]:
        inflater = self._zlib
        if inflater.eof:
            return []  # trailing bytes after the stream end are ignored
        out = []
        while data:
            piece = inflater.decompress(data, PIECE)
            if piece:
                out.append(self._count(piece))
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
        return out

    def _feed_brotli(self, data: bytes) -> list[bytes]:
        decoder = self._brotli
        out = [decoder.process(data, output_buffer_limit=PIECE)]
        self._count(out[-1])
        while not decoder.can_accept_more_data():
            out.append(self._count(decoder.process(b"", output_buffer_limit=PIECE)))
        return [piece for piece in out if piece]
