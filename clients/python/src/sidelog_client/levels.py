"""The four event levels and their accepted spellings, as the client needs them.

A copy of the server's table (``src/sidelog/levels.py``), not an import of it: this
package is installed on its own (``clients/python``) and must not need the server.
``tests/client/test_levels_agree.py`` fails if the two tables ever differ.
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
