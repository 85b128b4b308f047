"""The four event levels and their accepted spellings, for the client and the server.

This package is installed on its own (``clients/python``) and must not need the
server, so the table lives here; ``src/sidelog/levels.py`` re-exports it.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("debug", "info", "warn", "error")
"""The four stored levels, least severe first."""

LEVEL_RANK: dict[str, int] = {name: rank for rank, name in enumerate(LEVELS)}
"""Severity rank of each level, for minimum-level comparisons."""

LEVEL_ALIASES: dict[str, str] = {
    "debug": "debug",
    "trace": "debug",
    "info": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "fatal": "error",
    "critical": "error",
}
"""Every accepted spelling of a level (compared lower-cased) and its stored name."""
