"""Short human forms of numbers, sizes, ages and times for the panes and the status bar."""

from __future__ import annotations

import time

_SPARK = "▁▂▃▄▅▆▇█"


def count(value: int) -> str:
    """``1234567`` -> ``1.2M``; small numbers stay exact so counts can be checked by eye."""
    if value < 10_000:
        return str(value)
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return str(value)


def size(num_bytes: int) -> str:
    """Bytes as ``KiB``/``MiB``/``GiB`` with one decimal."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def age(then_ms: int, now_ms: int, *, coarse: bool = False) -> str:
    """How long ago: ``now``, ``12s ago``, ``3m ago``, ``2h ago``, ``4d ago``.

    ``coarse`` says ``<1m ago`` for the whole first minute, so a list of ages does not
    change every second.
    """
    seconds = max(0, (now_ms - then_ms) // 1000)
    if coarse and seconds < 60:
        return "<1m ago"
    if seconds < 2:
        return "now"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86_400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86_400}d ago"


def relative(then_ms: int, now_ms: int) -> str:
    """``now``, ``12s ago``, ``3m ago``, ``4d ago``; a time ahead of the clock reads ``in 3m``.

    Events carry their sender's clock, which may run ahead: saying so beats ``now``.
    """
    if then_ms - now_ms >= 2000:
        return "in " + age(now_ms, then_ms).removesuffix(" ago")
    return age(then_ms, now_ms)


TIME_ONLY, MONTH_DAY, FULL_DATE = 0, 1, 2
"""How much date a clock time carries: none (today), ``Nov 27`` (this year), ``2025-11-27``."""


def date_level(then_ms: int, now_ms: int) -> int:
    """``TIME_ONLY`` for a time on the local day of ``now_ms``, else ``MONTH_DAY`` or ``FULL_DATE``."""
    then, now = time.localtime(then_ms / 1000), time.localtime(now_ms / 1000)
    if then.tm_year != now.tm_year:
        return FULL_DATE
    return TIME_ONLY if then.tm_yday == now.tm_yday else MONTH_DAY


def clock(ms: int, *, level: int = TIME_ONLY, millis: bool = True) -> str:
    """``10:00:00.123``, ``Nov 27 10:00:00.123`` or ``2025-11-27 10:00:00.123`` (local time)."""
    local = time.localtime(ms / 1000)
    stamp = time.strftime("%H:%M:%S", local) + (f".{ms % 1000:03d}" if millis else "")
    if level == MONTH_DAY:
        return f"{_MONTHS[local.tm_mon - 1]} {local.tm_mday:02d} {stamp}"
    if level == FULL_DATE:
        return time.strftime("%Y-%m-%d ", local) + stamp
    return stamp


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""English month names whatever the locale (``%b`` follows it), so columns keep their width."""


def sparkline(values: list[int], width: int) -> str:
    """The last ``width`` values as block characters scaled to the largest one."""
    tail = values[-width:] if width > 0 else []
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return _SPARK[0] * len(tail)
    last = len(_SPARK) - 1
    return "".join(_SPARK[min(last, (value * last + top - 1) // top)] for value in tail)
