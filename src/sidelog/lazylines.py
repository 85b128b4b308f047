"""The lines of a big text, split only as far as someone has read.

A stack of 100,000 frames is 200,000 lines; splitting it all up front costs tens of
milliseconds the detail view does not have when it opens (it shows the first screen).
``LazyLines`` counts the lines at once (``str.count`` runs in C without building
objects) and splits chunk by chunk (each chunk in one ``str.split``) the first time a
line in it is asked for, so reading to the end costs the same as one split. Reads may
come from a worker thread and the UI at once, so splitting holds a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import overload

CHUNK_CHARS = 256 * 1024
"""Characters split at a time (a line longer than this is taken whole)."""


class LazyLines(Sequence[str]):
    """``text.split("\\n")`` (without a final empty line), at most ``max_lines`` plus a note."""

    def __init__(self, text: str, max_lines: int, note: str = "[… {hidden:,} more lines not shown]") -> None:
        total = text.count("\n") + 1 if text else 0
        if text.endswith("\n"):
            total -= 1
        hidden = max(0, total - max_lines)
        self._text = text
        self._limit = min(total, max_lines)
        self._note = note.format(hidden=hidden) if hidden else None
        self._count = self._limit + (1 if hidden else 0)
        self._lines: list[str] = []
        self._pos = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if stop > start:
                self._ensure(stop - 1)
            return self._lines[start:stop:step]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("line index out of range")
        self._ensure(index)
        return self._lines[index]

    def __iter__(self) -> Iterator[str]:
        if self._count:
            self._ensure(self._count - 1)
        return iter(self._lines)

    @property
    def split_so_far(self) -> int:
        """Lines split so far (the rest are still one string)."""
        return len(self._lines)

    def _ensure(self, index: int) -> None:
        if index < len(self._lines):
            return
        with self._lock:
            while index >= len(self._lines):
                self._split_chunk()

    def _split_chunk(self) -> None:
        text, pos, lines = self._text, self._pos, self._lines
        if len(lines) >= self._limit:
            if self._note is not None and len(lines) == self._limit:
                lines.append(self._note)
            return
        end = pos + CHUNK_CHARS
        if end >= len(text):
            parts, self._pos = text[pos:].split("\n"), len(text)
        else:
            newline = text.rfind("\n", pos, end)
            if newline < 0:  # one line longer than a chunk
                newline = text.find("\n", end)
                newline = len(text) if newline < 0 else newline
            parts, self._pos = text[pos:newline].split("\n"), newline + 1
        lines.extend(parts[: self._limit - len(lines)])
        if len(lines) >= self._limit and self._note is not None:
            lines.append(self._note)


__all__ = ["LazyLines"]
