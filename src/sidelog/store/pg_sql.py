"""The store's SQLite-flavoured SQL, rewritten for PostgreSQL as it goes to the driver.

Every read and triage query in store/ is one SQL text with ``?`` placeholders, checked
against SQLite's plans (tests/store/test_query_plans.py). Rather than keep a second
copy of each, the PostgreSQL engines rewrite the text just before it reaches asyncpg
(``install``): ``?`` becomes ``$1``, ``$2``… (outside quoted literals), and the few
SQLite-only spellings the queries use become their PostgreSQL equivalents:

- ``NOT INDEXED`` and ``INDEXED BY name`` (planner hints) and the unary ``+`` that keeps
  SQLite off an index are dropped: PostgreSQL's planner decides alone.
- Text search: ``LIKE`` is case-insensitive for ASCII in SQLite, so it becomes ``ILIKE``;
  ``details`` is ``jsonb`` here, searched as its text; ``instr(sidelog_fold(x), ?)``
  (the Python case fold registered on SQLite connections) becomes ``strpos(lower(x), ?)``,
  which agrees with ``str.casefold`` except for the few letters whose fold is longer
  (``ß`` folds to ``ss``); a plain ``instr`` is ``strpos``.
- SQLite's scalar ``min(a, b)``/``max(a, b)`` are ``least``/``greatest``.
- A subquery in ``FROM`` without a name gets one (PostgreSQL before 16 requires it).
- In an upsert's ``DO UPDATE SET``, a bare column means the existing row to SQLite and is
  ambiguous to PostgreSQL (it could be ``excluded``'s): it is qualified with the table.

A statement without ``?`` (SQLAlchemy's own, the PostgreSQL writer's) passes unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import event

from sidelog.search import FOLD_FUNCTION
from sidelog.store.async_core import AsyncEngine

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s+NOT INDEXED\b", re.IGNORECASE), ""),
    (re.compile(r"\s+INDEXED BY \w+", re.IGNORECASE), ""),
    (re.compile(r"(^|[\s(,])\+(?=[A-Za-z_])"), r"\1"),
    (re.compile(rf"\binstr\({FOLD_FUNCTION}\(((?:\w+\.)?details)\),"), r"strpos(lower(\1::text),"),
    (re.compile(rf"\binstr\({FOLD_FUNCTION}\(((?:\w+\.)?\w+)\),"), r"strpos(lower(\1),"),
    (re.compile(r"\binstr\(((?:\w+\.)?details),"), r"strpos(\1::text,"),
    (re.compile(r"\binstr\("), "strpos("),
    (re.compile(r"\b((?:\w+\.)?details) LIKE\b"), r"\1::text ILIKE"),
    (re.compile(r"\b((?:\w+\.)?message) LIKE\b"), r"\1 ILIKE"),
)
_EXTREMUM = re.compile(r"\b(min|max)\(", re.IGNORECASE)
_MARKERS = (
    "?",
    "+",
    FOLD_FUNCTION,
    "INDEXED",
    "instr(",
    "min(",
    "max(",
    "MIN(",
    "MAX(",
    "FROM (",
    "DO UPDATE",
)
_DERIVED = re.compile(r"\bFROM\s*\(\s*SELECT\b", re.IGNORECASE)
_AFTER_DERIVED = re.compile(
    r"\s*(?:AS\b|(?!(?:WHERE|GROUP|ORDER|LIMIT|OFFSET|UNION|EXCEPT|INTERSECT|HAVING|WINDOW|"
    r"JOIN|INNER|LEFT|RIGHT|FULL|CROSS|NATURAL|ON|RETURNING)\b)[A-Za-z_])",
    re.IGNORECASE,
)
_UPSERT = re.compile(
    r"\bINSERT INTO (\w+)\s*\(([^)]*)\)(.*?\bDO UPDATE SET\b)(.*?)(?=\bWHERE\b|\bRETURNING\b|$)",
    re.IGNORECASE | re.DOTALL,
)


def _closing(sql: str, opening: int) -> int:
    """The index of the parenthesis closing the one at ``opening`` (``len(sql)`` if none)."""
    depth = 0
    for index in range(opening, len(sql)):
        depth += (sql[index] == "(") - (sql[index] == ")")
        if depth == 0:
            return index
    return len(sql)


def _name_derived_tables(sql: str) -> str:
    """``FROM (SELECT …)`` without a name gets ``AS derived_N``."""
    inserts: list[int] = []
    for match in _DERIVED.finditer(sql):
        close = _closing(sql, sql.index("(", match.start()))
        if close < len(sql) and not _AFTER_DERIVED.match(sql, close + 1):
            inserts.append(close + 1)
    for number, at in sorted(enumerate(inserts, 1), key=lambda item: item[1], reverse=True):
        sql = f"{sql[:at]} AS derived_{number}{sql[at:]}"
    return sql


def _qualify_upsert(sql: str) -> str:
    """In ``DO UPDATE SET``, the right-hand sides' bare columns of the insert become
    ``table.column`` (the existing row, as SQLite reads them)."""
    match = _UPSERT.search(sql)
    if match is None:
        return sql
    table, columns, head, assignments = match.groups()
    names = [name.strip() for name in columns.split(",") if name.strip()]
    bare = re.compile(rf"(?<![\w.])({'|'.join(map(re.escape, names))})\b(?!\s*\()")
    replacement = table + r".\1"
    parts = []
    for part in assignments.split(","):
        target, sep, value = part.partition("=")
        parts.append(target + sep + bare.sub(replacement, value) if sep else part)
    qualified = ",".join(parts)
    return sql[: match.start(4)] + qualified + sql[match.end(4) :]


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
    masked = _qualify_upsert(_name_derived_tables(masked))
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
