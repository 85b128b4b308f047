"""Joining the lines of one multi-line log entry (a stack trace) into one block.

A dev server prints a Python traceback, a Node/JS stack (``    at …``), a Java
trace (``\\tat …``, ``Caused by:``) or a Go panic with its goroutine dump as many
lines; stored line by line they would be dozens of meaningless events. The joiner
is fed lines in order and hands back blocks: a block is a first line plus every
line that continues it (indented lines, ``Caused by:``, a chained ``During handling
of the above exception``, the exception line closing a Python traceback, Go's
``goroutine N [running]:`` and function lines). ``sidelog.dialects.text.recognise_text``
turns a block into one event with ``details.exception`` parsed out.

No timer runs here: ``feed`` and ``flush_idle`` take ``now`` (monotonic seconds;
``time.monotonic()`` when omitted) and the caller calls ``flush_idle`` on its own
timer to end a block that has waited long enough, and ``flush`` at end of input. A
line that cannot start a multi-line entry (nothing in it says error, warning or
"continued below") is handed back at once, not held. Memory is bounded: past
``max_lines`` or ``max_bytes`` further continuation lines are counted, not kept, and
the block says how many were left out.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sidelog.dialects.stacks import strip_ansi
from sidelog.dialects.text import classify_line

_ALWAYS_CONTINUES = (
    "Traceback (most recent call last):",
    "During handling of the above exception",
    "The above exception was the direct cause",
    "Caused by:",
    "Suppressed:",
    "--- End of ",
)
_PY_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:: .*)?")
_GO_CONTINUES = re.compile(r"goroutine \d+ \[|created by |exit status \d+|\[signal ")
_NODE_CONTINUES = re.compile(r"Node\.js v\d|[\w$.]*(?:Error|Exception)(?: \[\w+\])?(?::|$)")
# An exception's first line printed under the log line that reports it (Spring, Node).
_EXCEPTION_HEADER = re.compile(r"[\w$.]*(?:Error|Exception|Throwable)(?: \[\w+\])?(?:: .*)?")
_FILE_LINE = re.compile(r"\S+:\d+")
_CLOSING = re.compile(r"[}\])]+[,;]?")
_HEAD_ENDINGS = (":", "{", "[", "(")
SCAN_CHARS = 2048
"""How much of a line is looked at: bounded work per line, whatever its length."""
MAX_BLANKS = 2
"""Blank lines kept inside a block (Python puts one around "During handling…")."""


@dataclass(frozen=True, slots=True)
class Block:
    """One joined entry: its first line and every line that continued it."""

    text: str
    """The kept lines joined by ``\\n`` (plus a note when lines were left out)."""
    lines: int
    """Lines the entry had, kept or not."""
    ref: object
    """What the caller passed as ``ref`` with the first line (a line number, a stream)."""
    dropped: int = 0
    """Continuation lines left out past the limits."""


class MultilineJoiner:
    """Fed lines in order, hands back blocks; holds at most one open block.

    ``max_lines``/``max_bytes`` bound the open block; ``idle_s`` is how long
    ``flush_idle`` lets an open block wait for more lines.
    """

    __slots__ = (
        "max_lines",
        "max_bytes",
        "idle_s",
        "_lines",
        "_bytes",
        "_ref",
        "_dropped",
        "_blanks",
        "_mode",
        "_last",
    )

    def __init__(self, *, max_lines: int = 200, max_bytes: int = 64 * 1024, idle_s: float = 0.5) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self._lines: list[str] = []
        self._bytes = 0
        self._ref: object = None
        self._dropped = 0
        self._blanks = 0
        self._mode: str | None = None
        self._last = 0.0

    @property
    def pending(self) -> bool:
        """Whether a block is open (waiting to see if more lines continue it)."""
        return bool(self._lines)

    @property
    def pending_bytes(self) -> int:
        """Characters held in the open block."""
        return self._bytes

    def feed(self, line: str, *, now: float | None = None, ref: object = None) -> list[Block]:
        """Take one line (without its newline); return the blocks it completed.

        ``ref`` is handed back with the block the line starts.
        """
        self._last = time.monotonic() if now is None else now
        line = line.rstrip("\r\n")
        plain = strip_ansi(line)
        if not plain.strip():
            if self._lines:
                self._blanks += 1
            return []
        plain = plain[:SCAN_CHARS]  # only a line's start says how it relates to others
        if self._lines and self._continues(plain):
            self._append(line, plain)
            return []
        out = self.flush()
        self._lines = [line]
        self._bytes = len(line)
        self._ref = ref
        self._mode = _mode_of(plain, None)
        if not _may_continue(plain):
            out.extend(self.flush())
        return out

    def flush_idle(self, now: float | None = None) -> list[Block]:
        """End the open block if no line came for ``idle_s`` seconds; call it on a timer."""
        if self._lines and (time.monotonic() if now is None else now) - self._last >= self.idle_s:
            return self.flush()
        return []

    def flush(self) -> list[Block]:
        """End the open block now (end of input, or before unrelated output)."""
        if not self._lines:
            return []
        text = "\n".join(self._lines)
        if self._dropped:
            text += f"\n[… {self._dropped} more lines not kept]"
        block = Block(text, len(self._lines) + self._dropped, self._ref, self._dropped)
        self._lines = []
        self._bytes = self._dropped = self._blanks = 0
        self._mode = None
        self._ref = None
        return [block]

    def _append(self, line: str, plain: str) -> None:
        blanks = min(self._blanks, MAX_BLANKS)
        self._blanks = 0
        self._mode = _mode_of(plain, self._mode)
        if len(self._lines) + blanks >= self.max_lines or self._bytes + len(line) > self.max_bytes:
            self._dropped += 1
            return
        self._lines.extend([""] * blanks)
        self._lines.append(line)
        self._bytes += len(line) + blanks + 1

    def _continues(self, plain: str) -> bool:
        """Whether ``plain`` (escape codes stripped) belongs to the open block."""
        if plain[0] in " \t":
            return True
        if plain.startswith(_ALWAYS_CONTINUES) or _CLOSING.fullmatch(plain):
            return True
        mode = self._mode
        if len(self._lines) == 1 and (mode == "node" or _EXCEPTION_HEADER.fullmatch(plain)):
            return True  # Node's source line under "file:line"; an exception under its log line
        if mode == "python":
            last = strip_ansi(self._lines[-1])
            if plain.startswith("> File "):  # loguru's marker of the frame that raised
                return True
            return last[:1] in (" ", "\t", ">") and bool(_PY_EXCEPTION_LINE.fullmatch(plain))
        if mode == "go":
            return bool(_GO_CONTINUES.match(plain)) or _go_function(plain)
        if mode == "node":
            return bool(_NODE_CONTINUES.match(plain))
        return mode == "js" and plain.startswith("Node.js v")


def _go_function(plain: str) -> bool:
    """A goroutine dump's function line: ``main.main()``, ``main.(*T).run(0xc0, …)``."""
    name = plain.partition("(")[0]
    return plain.endswith(")") and bool(name) and " " not in name


def _mode_of(plain: str, current: str | None) -> str | None:
    """The kind of entry a line shows the block to be (it may only become more definite)."""
    if plain.startswith("Traceback (most recent call last):") or "Traceback (most recent" in plain:
        return "python"
    if plain.startswith(("panic: ", "fatal error: ", "goroutine ")):
        return "go"
    if current is None and _FILE_LINE.fullmatch(plain.strip()):
        return "node"  # Node prints "file:line", the source line and a caret before an uncaught error
    if current is None and _EXCEPTION_HEADER.fullmatch(plain):
        return "js"  # a stack's header: Node may close it with its version line
    return current


def _may_continue(plain: str) -> bool:
    """Whether a first line can be followed by lines that continue it."""
    stripped = plain.rstrip()
    if stripped.endswith(_HEAD_ENDINGS) or _FILE_LINE.fullmatch(stripped):
        return True
    level = classify_line(stripped).level
    return level in ("warn", "error")
