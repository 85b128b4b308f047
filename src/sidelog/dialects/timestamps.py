"""Timestamps as the dialects write them, to milliseconds since the epoch.

Loggers disagree on units: pino writes epoch milliseconds, zap and GELF epoch seconds
with a fraction, loguru seconds, some Go encoders micro- or nanoseconds, others
ISO-8601/RFC 3339 strings with any number of fractional digits and an offset (or
none). Numbers are told apart by magnitude: any real log line's time is after 1973,
so seconds stay below 10^11, milliseconds below 10^14, microseconds below 10^17.
A date-time without an offset is read as this machine's local time: it is what
Python's ``asctime`` and most text logs print, and sidelog runs beside the app.
"""

from __future__ import annotations

import re
from datetime import datetime

MAX_MS = 253_402_300_799_999
"""The last millisecond of year 9999, as the native validation accepts."""

_NUMBER = re.compile(r"^-?\d{1,20}(?:\.\d{1,12})?$")
# "2024-05-01 12:00:00 +0000" and "…Z" variants that fromisoformat refuses.
_SPACED_OFFSET = re.compile(r"^(.*\d) ?([+-]\d\d):?(\d\d)$")


def epoch_ms(value: float) -> int | None:
    """Milliseconds for an epoch number in seconds, ms, µs or ns (told by magnitude)."""
    if value != value or value < 0:
        return None
    if value < 1e11:
        ms = value * 1000
    elif value < 1e14:
        ms = value
    elif value < 1e17:
        ms = value / 1000
    elif value < 1e20:
        ms = value / 1_000_000
    else:
        return None
    result = int(ms)
    return result if result <= MAX_MS else None


def iso_ms(text: str) -> int | None:
    """Milliseconds for an ISO-8601/RFC 3339 date-time (or an epoch number as text)."""
    value = text.strip()
    if not value or len(value) > 64:
        return None
    if _NUMBER.match(value):
        return epoch_ms(float(value))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        spaced = _SPACED_OFFSET.match(value)
        if spaced is None:
            return None
        try:
            parsed = datetime.fromisoformat(f"{spaced.group(1)}{spaced.group(2)}:{spaced.group(3)}")
        except ValueError:
            return None
    try:
        ms = int(parsed.timestamp() * 1000)  # naive: local time
    except (OverflowError, OSError, ValueError):
        return None
    return ms if 0 <= ms <= MAX_MS else None


def to_ms(value: object) -> int | None:
    """Milliseconds for any timestamp a dialect writes; ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_ms(value)
    if isinstance(value, str):
        return iso_ms(value)
    return None
