"""The store's SQLite-flavoured SQL, rewritten for PostgreSQL as it goes to the driver.

Every read and triage query in store/ is one SQL text with ``?`` placeholders, checked
against SQLite's plans (tests/store/test_query_plans.py). Rather than keep a second
copy of each, the PostgreSQL engines rewrite the text just before it reaches asyncpg
(``install``): ``?`` becomes ``$1``, ``$2``… (outside quoted literals), and the few
SQLite-only spellings the queries use become their PostgreSQL equivalents:

- ``NOT INDEXED`` (a planner hint) and the unary ``+`` that keeps SQLite off an index
  are dropped: PostgreSQL's planner decides alone.
- Text search: ``LIKE`` is case-insensitive for ASCII in SQLite, so it becomes ``ILIKE``;
  ``details`` is ``jsonb`` here, searched as its text; ``instr(sidelog_fold(x), ?)``
  (the Python case fold registered on SQLite connections) becomes ``strpos(lower(x), ?)``,
  which agrees with ``str.casefold`` except for the few letters whose fold is longer
  (``ß`` folds to ``ss``); a plain ``instr`` is ``strpos``.
- SQLite's scalar ``min(a, b)``/``max(a, b)`` are ``least``/``greatest``.

A statement without ``?`` (SQLAlchemy's own, the PostgreSQL writer's) passes unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from sidelog.search import FOLD_FUNCTION

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s+NOT INDEXED\b", re.IGNORECASE), ""),
    (re.compile(r"(^|[\s(,])\+(?=[A-Za-z_])"), r"\1"),
    (re.compile(rf"\binstr\({FOLD_FUNCTION}\(((?:\w+\.)?details)\),"), r"strpos(lower(\1::text),"),
    (re.compile(rf"\binstr\({FOLD_FUNCTION}\(((?:\w+\.)?\w+)\),"), r"strpos(lower(\1),"),
    (re.compile(r"\binstr\(((?:\w+\.)?details),"), r"strpos(\1::text,"),
    (re.compile(r"\binstr\("), "strpos("),
    (re.compile(r"\b((?:\w+\.)?details) LIKE\b"), r"\1::text ILIKE"),
    (re.compile(r"\b((?:\w+\.)?message) LIKE\b"), r"\1 ILIKE"),
)
_EXTREMUM = re.compile(r"\b(min|max)\(", re.IGNORECASE)
_MARKERS = ("?", "+", FOLD_FUNCTION, "INDEXED", "instr(", "min(", "max(", "MIN(", "MAX(")


def _scalar_extrema(sql: str) -> str:
    """``min(a, b)``/``max(a, b)`` (SQLite's scalar forms) as ``least``/``greatest``;
    the one-argument aggregates are left alone."""
    renames: list[tuple[int, int, str]] = []
    for match in _EXTREMUM.finditer(sql):
        depth, index, scalar = 1, match.end(), False
        while index < len(sql) and depth:
            char = sql[index]
            depth += (char == "(") - (char == ")")
            scalar = scalar or (char == "," and depth == 1)
            index += 1
        if scalar:
            renames.append(
                (match.start(), match.end() - 1, "least" if match.group(1).lower() == "min" else "greatest")
            )
    for start, end, name in reversed(renames):
        sql = sql[:start] + name + sql[end:]
    return sql


@lru_cache(maxsize=2048)
def to_postgres(sql: str) -> str:
    """``sql`` with numbered placeholders and PostgreSQL spellings (see the module docstring)."""
    if not any(marker in sql for marker in _MARKERS):
        return sql
    literals: list[str] = []

    def hide(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    masked = _LITERAL.sub(hide, sql)  # quoted text is never rewritten
    for pattern, replacement in _REWRITES:
        masked = pattern.sub(replacement, masked)
    masked = _scalar_extrema(masked)
    pieces = masked.split("?")
    numbered = pieces[0] + "".join(f"${number}{piece}" for number, piece in enumerate(pieces[1:], 1))
    return re.sub(r"\x00(\d+)\x00", lambda match: literals[int(match.group(1))], numbered)


def install(engine: AsyncEngine) -> None:
    """Rewrite every statement ``engine`` sends (``exec_driver_sql`` text included)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute", retval=True)
    def _rewrite(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return to_postgres(statement), parameters
