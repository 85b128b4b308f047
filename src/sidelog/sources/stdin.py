"""Piped stdin as a live line source: ``CMD | sidelog`` and ``CMD | sidelog serve``.

The lines take the same road as ``sidelog run``'s (``sources/files.py`` reads and
splits with bounded memory, ``sources/join.py`` joins stack traces, ``sources/sink.py``
recognises dialects, ``TcpSink`` sends them to sidelog's own socket endpoint), in
category ``stdin`` and source ``stdin``. Unlike ``sidelog import -`` the lines carry no
idempotency key: a live pipe is not replayed, and a dev server printing the same
banner on every start must not have its second start's lines taken for duplicates.

Stdin is read when it is not a terminal (the user's keyboard) nor another character
device (``/dev/null``, what supervisors and containers give): a pipe, a socket or a
redirected file.
The UI reads its keys from file descriptor 0, so before it starts ``take_stdin``
moves the pipe to a descriptor of its own and puts the controlling terminal
(``/dev/tty``) on 0, as lnav and fzf do; with no terminal it says so in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import Sequence
from typing import IO, cast

from sidelog.sources.files import FileReader, Readable, SourceError
from sidelog.sources.join import IDLE_S, BlockJoiner
from sidelog.sources.sink import SinkError, SourceLine, Summary
from sidelog.sources.tcp_sink import TcpSink

__all__ = [
    "NAME",
    "StdinError",
    "feed_stdin",
    "own_address",
    "read_stdin_into",
    "readable_stdin",
    "take_stdin",
]

NAME = "stdin"
"""Category and source of the piped lines."""


class StdinError(RuntimeError):
    """Stdin cannot be used as asked; the message is the one line to show."""


def readable_stdin(fd: int = 0) -> bool:
    """Whether ``fd`` is something to read lines from: a pipe, a socket or a regular file."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISREG(mode)


def take_stdin(tty: str = "/dev/tty") -> IO[bytes]:
    """Move piped stdin off descriptor 0 and put the terminal there for the UI's keys.

    Returns the pipe as a binary file. ``StdinError`` when there is no terminal to
    put on 0 (run from cron, a container, an editor's task runner…).
    """
    piped = os.dup(0)
    try:
        terminal = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError as exc:
        os.close(piped)
        reason = (exc.strerror or str(exc)).lower()
        raise StdinError(
            f"stdin is a pipe and there is no terminal for the UI ({tty}: {reason}); "
            "use `sidelog serve` to read stdin headless"
        ) from None
    os.dup2(terminal, 0)
    os.close(terminal)
    return os.fdopen(piped, "rb")


def own_address(endpoints: Sequence[tuple[str, str]]) -> str:
    """Where lines go: this process's TCP endpoint, else its Unix socket."""
    kinds = dict(reversed(list(endpoints)))
    if "tcp" in kinds:
        return kinds["tcp"]
    if "unix" in kinds:
        return f"unix:{kinds['unix']}"
    raise StdinError("reading stdin needs the TCP or Unix endpoint: do not set --tcp off without --unix")


async def feed_stdin(address: str, stdin: IO[bytes], *, name: str = NAME) -> Summary:
    """Read ``stdin`` to its end, sending each line (a stack trace: one event) to ``address``.

    Returns the sink's final counts. ``StdinError`` when sidelog cannot be reached or
    the input cannot be read; lines sent before that stay stored.
    """
    sink = TcpSink(address, reconnect=True)
    try:
        await sink.connect()
    except SinkError as exc:
        raise StdinError(str(exc)) from None
    reader = FileReader("-", stdin=cast(Readable, stdin))
    joiner = BlockJoiner()

    async def end_idle_blocks() -> None:
        # A traceback stays open until a line that does not continue it, or this.
        while True:
            await asyncio.sleep(IDLE_S / 2)
            done = joiner.flush_idle()
            if done:
                await sink.lines(done)

    idle = asyncio.create_task(end_idle_blocks(), name="stdin-idle-blocks")
    failure: str | None = None
    try:
        async for batch in reader.batches():
            done: list[SourceLine] = []
            for line in batch:
                done += joiner.feed(SourceLine(line.text, "stdin", name, None, NAME))
            if done:
                await sink.lines(done)
    except SourceError as exc:
        failure = str(exc)
    except asyncio.CancelledError:
        sink.abort()
        raise
    finally:
        idle.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await idle
    try:
        await sink.lines(joiner.flush())
        summary = await sink.close()
    except SinkError as exc:
        raise StdinError(str(exc)) from None
    if failure is not None:
        raise StdinError(f"{failure} ({summary.describe()})")
    return summary


async def read_stdin_into(endpoints: list[tuple[str, str]], stdin: IO[bytes]) -> None:
    """Send ``stdin``'s lines to this server's own endpoint (``sidelog serve``); one line on
    stderr when it ends, or says why it failed."""
    try:
        summary = await feed_stdin(own_address(endpoints), stdin)
    except StdinError as exc:
        print(f"sidelog: stdin: {exc}", file=sys.stderr, flush=True)
        return
    print(f"stdin ended: {summary.describe()}", file=sys.stderr, flush=True)
