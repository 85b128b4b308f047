"""Multi-line entries (stack traces) joined into one line before they become events.

A traceback printed by a dev server is a dozen lines; stored one by one they are a
dozen meaningless events. ``BlockJoiner`` runs ``sidelog.dialects.MultilineJoiner``
once per (name, stream), so stdout and stderr never interleave inside a block, and
hands back ``SourceLine``s whose text may hold several lines; ``line_to_event``
then reads the block as one event with its exception parsed out.

A JSON object line is never part of a block: it ends the open block of its stream
and passes straight through. A block carries the idempotency key of its *last*
line: a block cut short by the end of a file (a traceback still being written) and
the whole block imported later have different keys, so the later one is stored
too rather than being taken for a duplicate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from sidelog.dialects import Block, MultilineJoiner
from sidelog.sources.sink import SourceLine

IDLE_S = 0.5
"""How long an open block waits for another line before ``flush_idle`` ends it."""


@dataclass(slots=True)
class _Stream:
    joiner: MultilineJoiner
    first: SourceLine | None = None
    """The open block's first line."""
    last: SourceLine | None = None
    """The last non-blank line fed: the open block's last line."""


class BlockJoiner:
    """Feed ``SourceLine``s in order; get back lines and joined blocks, in order per stream."""

    def __init__(self, *, idle_s: float = IDLE_S, max_lines: int = 200, max_bytes: int = 64 * 1024) -> None:
        self._idle_s = idle_s
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._refs = itertools.count()

    @property
    def pending(self) -> bool:
        """Whether some block is still open."""
        return any(stream.joiner.pending for stream in self._streams.values())

    def feed(self, line: SourceLine, now: float | None = None) -> list[SourceLine]:
        """The lines and blocks that ``line`` completed (possibly itself)."""
        state = self._stream(line)
        text = line.text.strip()
        if text[:1] == "{" and text[-1:] == "}":
            return [*self._flush(state), line]
        joiner = state.joiner
        if not text:
            joiner.feed(line.text, now=now)  # a blank line inside a block is kept
            return []
        ref = next(self._refs)
        was_open = joiner.pending
        previous_first, previous_last = state.first, state.last
        blocks = joiner.feed(line.text, now=now, ref=ref)
        out = [
            _joined(block, line, line) if block.ref == ref else _joined(block, previous_first, previous_last)
            for block in blocks
        ]
        state.last = line
        if not joiner.pending:
            state.first = None
        elif blocks or not was_open:
            state.first = line
        return out

    def flush_idle(self, now: float | None = None) -> list[SourceLine]:
        """End blocks that waited ``idle_s`` for another line (call it on a timer)."""
        out: list[SourceLine] = []
        for state in self._streams.values():
            blocks = state.joiner.flush_idle(now)
            out.extend(_joined(block, state.first, state.last) for block in blocks)
            if blocks:
                state.first = None
        return out

    def flush(self) -> list[SourceLine]:
        """End every open block (end of input)."""
        out: list[SourceLine] = []
        for state in self._streams.values():
            out.extend(self._flush(state))
        return out

    def _stream(self, line: SourceLine) -> _Stream:
        key = (line.name, line.stream)
        state = self._streams.get(key)
        if state is None:
            joiner = MultilineJoiner(
                max_lines=self._max_lines, max_bytes=self._max_bytes, idle_s=self._idle_s
            )
            state = self._streams[key] = _Stream(joiner)
        return state

    def _flush(self, state: _Stream) -> list[SourceLine]:
        first, last = state.first, state.last
        state.first = None
        return [_joined(block, first, last) for block in state.joiner.flush()]


def _joined(block: Block, first: SourceLine | None, last: SourceLine | None) -> SourceLine:
    """The block as one line: the first line's stream and name, the last line's key."""
    template = first or last
    if template is None:  # unreachable: every block has a first line
        raise AssertionError("a block without lines")
    if block.lines == 1:
        return template
    return replace(template, text=block.text, key=last.key if last is not None else template.key)
