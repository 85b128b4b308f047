"""The import progress line and the final summary line, on stderr.

The bar is drawn only when stderr is a terminal (a log file or a CI job gets
just the summary); it is redrawn at most ten times a second, so drawing costs
nothing next to the import itself.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO


def human_size(count: float) -> str:
    """Bytes as ``512 B``, ``1.5 MiB``…"""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


class Progress:
    """A one-line bar on stderr (only when it is a terminal), then a one-line summary.

    Redrawn at most every ``every_s`` seconds; the counts of stored lines come
    from the sink, the byte counts from the readers.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        every_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.every_s = every_s
        self._clock = clock
        self._started = clock()
        self._drawn = float("-inf")
        self._visible = False

    @property
    def elapsed(self) -> float:
        """Seconds since the progress started."""
        return self._clock() - self._started

    def render(self, done: int, total: int | None, lines: int, stored: int, *, label: str) -> str:
        """The bar's text, most useful first (a narrow terminal clips the end)."""
        elapsed = max(self.elapsed, 1e-6)
        rate = done / elapsed
        parts = [label]
        if total:
            share = min(done / total, 1.0)
            filled = int(share * 20)
            parts.append("█" * filled + "░" * (20 - filled) + f" {share:4.0%}")
        parts.append(f"{lines:,} lines, {stored:,} stored")
        parts.append(f"{human_size(rate)}/s")
        if total and rate > 0 and done < total:
            left = int((total - done) / rate)
            parts.append(f"ETA {left // 60}:{left % 60:02d}")
        parts.append(f"{human_size(done)}" + (f"/{human_size(total)}" if total else ""))
        return "  ".join(parts)

    def update(self, done: int, total: int | None, lines: int, stored: int, *, label: str) -> None:
        """Redraw the bar if it is time (and stderr is a terminal)."""
        if not self.enabled:
            return
        now = self._clock()
        if now - self._drawn < self.every_s:
            return
        self._drawn = now
        width = shutil.get_terminal_size((100, 20)).columns - 1
        text = self.render(done, total, lines, stored, label=label)[:width]
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(f"\r{text}\x1b[K")
            self._stream.flush()
            self._visible = True

    def finish(self, summary: str) -> None:
        """Clear the bar and print the final line (always, terminal or not)."""
        with contextlib.suppress(OSError, ValueError):
            if self._visible:
                self._stream.write("\r\x1b[K")
            self._stream.write(summary + "\n")
            self._stream.flush()
        self._visible = False
