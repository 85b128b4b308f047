"""Text search (``/``, ``?q=``, ``--q``): one meaning for live events and for the store.

A search ignores case. An ASCII needle matches as ``grep -i`` does, which is exactly what
SQLite's ``LIKE`` does in the store: ``A``-``Z`` equal ``a``-``z``, every other character
only itself. A needle with any other character is matched with Unicode case folding
(``ärger`` finds ``ÄRGER``, ``Straße`` finds ``STRASSE``):
live with ``str.casefold``, in the store through the ``sidelog_fold`` SQL function that
``register`` adds to each connection. The two ways agree on every text, so a search finds
the same events in history as it does as they arrive.

Why not fold every search: ``LIKE`` runs in SQLite's C code, a Python function once per
row does not. Measured over a million stored events of the benchmark mix (a needle
found nowhere, so every row is read; busy 2-core machine): ``LIKE`` 0.8-0.9 s, the
folding function 4.2-4.6 s. ASCII needles, nearly every search, keep the fast path.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

__all__ = ["FOLD_FUNCTION", "matches", "register", "search_sql"]

FOLD_FUNCTION = "sidelog_fold"
"""The SQL function ``register`` adds: ``str.casefold`` of a text, ``NULL`` for ``NULL``."""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def register(conn: Any) -> None:
    """Add ``sidelog_fold`` to a ``sqlite3`` connection (or SQLAlchemy's aiosqlite adapter of one)."""
    conn.create_function(FOLD_FUNCTION, 1, _fold, deterministic=True)


def matches(needle: str, message: str, details: str | None) -> bool:
    """Whether ``needle`` is in the message or the details text, case ignored as above."""
    fold: Callable[[str], str] = _ascii_lower if needle.isascii() else _casefold
    folded = fold(needle)
    return folded in fold(message) or (details is not None and folded in fold(details))


def _ascii_lower(text: str) -> str:
    # str.lower is exact for ASCII text and 30 times faster than translate.
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _casefold(text: str) -> str:
    return text.casefold()


def search_sql(needle: str) -> tuple[str, list[Any]]:
    """The WHERE term and parameters that select what ``matches`` would."""
    if needle.isascii():
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return "(message LIKE ? ESCAPE '\\' OR details LIKE ? ESCAPE '\\')", [pattern, pattern]
    folded = needle.casefold()
    term = f"(instr({FOLD_FUNCTION}(message), ?) > 0 OR instr({FOLD_FUNCTION}(details), ?) > 0)"
    return term, [folded, folded]
