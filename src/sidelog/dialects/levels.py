"""Every level scheme the dialects use, mapped onto sidelog's four levels.

Named levels (npm's ``verbose``/``http``/``silly``, syslog's ``notice``/``alert``/
``emerg``, .NET's ``Information``, loguru's ``SUCCESS``, slog's ``INFO+2``…) and the
numeric schemes (pino/bunyan 10–60, Python logging 10–50, syslog 0–7, consola 0–5)
all end up as debug, info, warn or error. The caller learns whether the mapping lost
information, so the original spelling can be kept in ``details`` (README "The event").
"""

from __future__ import annotations

import re

NAMED: dict[str, str] = {
    **dict.fromkeys(("trace", "verbose", "silly", "debug", "dbug", "fine", "finer", "finest"), "debug"),
    **dict.fromkeys(
        (
            "info",
            "information",
            "informational",
            "notice",
            "http",
            "log",
            "success",
            "start",
            "ready",
            "box",
            "config",
        ),
        "info",
    ),
    **dict.fromkeys(("warn", "warning"), "warn"),
    **dict.fromkeys(
        (
            "error",
            "err",
            "eror",
            "fail",
            "fatal",
            "critical",
            "crit",
            "alert",
            "emerg",
            "emergency",
            "panic",
            "dpanic",
            "severe",
        ),
        "error",
    ),
}
"""Level names (compared lower-cased) and the stored level they mean."""

EXACT_NAMES = frozenset({"debug", "info", "warn", "warning", "error"})
"""Names that map without losing anything: no need to keep the original."""

# slog writes levels between the named ones as a name plus an offset ("INFO+2").
_SLOG_OFFSET = re.compile(r"^(debug|info|warn|error)([+-]\d{1,3})$")
_SLOG_BASE = {"debug": -4, "info": 0, "warn": 4, "error": 8}

_STANDARD_NUMBERS: dict[str, frozenset[int]] = {
    "pino": frozenset({20, 30, 40, 50}),
    "python": frozenset({10, 20, 30, 40}),
    "syslog": frozenset({3, 4, 6, 7}),
    "consola": frozenset({1, 3, 4}),
}


def numeric_level(value: float, scheme: str) -> str | None:
    """The stored level of a number in ``scheme``, or ``None`` if it has no meaning there.

    Schemes: ``pino`` (bunyan too: 10 trace … 60 fatal, custom levels in between),
    ``python`` (logging and loguru: 10 debug … 50 critical, loguru's 5 trace and 25
    success), ``syslog`` (0 emergency … 7 debug; GELF), ``consola`` (0 fatal/error …
    5 trace).
    """
    if scheme == "pino":
        if value <= 0:
            return None
        return "debug" if value < 30 else "info" if value < 40 else "warn" if value < 50 else "error"
    if scheme == "python":
        if value <= 0:
            return None
        return "debug" if value < 20 else "info" if value < 30 else "warn" if value < 40 else "error"
    if scheme == "syslog":
        if value != int(value) or not 0 <= value <= 7:
            return None
        return "error" if value <= 3 else "warn" if value == 4 else "info" if value <= 6 else "debug"
    if scheme == "consola":
        if value != int(value) or not 0 <= value <= 5:
            return None
        return ("error", "warn", "info", "info", "debug", "debug")[int(value)]
    raise ValueError(f"unknown level scheme {scheme!r}")


def map_level(value: object, scheme: str | None = None) -> tuple[str, bool] | None:
    """``(stored level, exact)`` for a level as a dialect wrote it; ``None`` if unknown.

    ``exact`` is False when the mapping dropped information (``fatal`` → error,
    pino's 60, ``INFO+2``): the caller then keeps the original in ``details``.
    Numbers are read in ``scheme``; a string of digits too (some emitters quote them).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if scheme is None or value != value:
            return None
        level = numeric_level(value, scheme)
        if level is None:
            return None
        return level, value in _STANDARD_NUMBERS[scheme]
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    level = NAMED.get(name)
    if level is not None:
        return level, name in EXACT_NAMES
    if scheme is not None and name.isdigit() and len(name) <= 4:
        return map_level(int(name), scheme)
    offset = _SLOG_OFFSET.match(name)
    if offset is not None:
        number = _SLOG_BASE[offset.group(1)] + int(offset.group(2))
        mapped = "debug" if number < 0 else "info" if number < 4 else "warn" if number < 8 else "error"
        return mapped, False
    return None
