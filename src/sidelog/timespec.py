"""Points in time as people type them: ``10m``, ``2h``, ``7d``, ``today``, ISO-8601, epoch ms.

One parser for every time filter (``GET /v1/events?since=``, ``tail --since``,
``export --until``, the UI), so each accepts the same forms and refuses the same
nonsense with the same one-line reason. A duration counts back from now
(``since=10m`` is ten minutes ago); ``today`` and ``yesterday`` are local midnights.
Anything outside the years 1970–9999 is refused rather than clamped silently, so
``since=inf`` or ``since=99999y`` is a clear error, never a 500 or an empty page.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

MAX_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant a date-time can name."""

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)", re.IGNORECASE)
_FORMS = "a duration such as 10m, 2h or 7d, 'today', 'yesterday', an ISO-8601 date-time or epoch milliseconds"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_time(value: str, name: str, *, now: Callable[[], int] = _now_ms) -> int:
    """Milliseconds since the epoch for ``value``; ``ValueError`` naming ``name`` otherwise."""
    text = value.strip()
    lowered = text.lower()
    if lowered == "now":
        return now()
    if lowered in ("today", "yesterday"):
        midnight = datetime.fromtimestamp(now() / 1000).astimezone()
        midnight = midnight.replace(hour=0, minute=0, second=0, microsecond=0)
        if lowered == "yesterday":
            midnight -= timedelta(days=1)
        return int(midnight.timestamp() * 1000)
    if text.startswith("-") and _DURATION.fullmatch(text[1:].strip()):
        raise ValueError(
            f"{name}: a duration counts back from now, write {text[1:].strip()} instead of {text}"
        )
    duration = _DURATION.fullmatch(text)
    if duration is not None:
        back = float(duration.group(1)) * _UNIT_MS[duration.group(2).lower()]
        moment = now() - back
        if not math.isfinite(moment) or moment < 0:
            raise ValueError(f"{name}: {text} reaches back before 1970")
        return int(moment)
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or not 0 <= number <= MAX_MS:
            raise ValueError(f"{name}: {text} is not a time between 1970 and 9999 (epoch milliseconds)")
        return int(number)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be {_FORMS}") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    try:
        moment_ms = int(parsed.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{name}: {text} is not a time between 1970 and 9999") from None
    if not 0 <= moment_ms <= MAX_MS:
        raise ValueError(f"{name}: {text} is not a time between 1970 and 9999")
    return moment_ms


def check_range(since: int | None, until: int | None) -> None:
    """Refuse a window that ends before it starts (``until`` is exclusive)."""
    if since is not None and until is not None and until <= since:
        raise ValueError("until must be later than since")
