"""Short human forms of numbers, sizes and ages for the narrow side panes and status bar."""

from __future__ import annotations

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
