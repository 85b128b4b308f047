"""``CMD | sidelog`` and ``CMD | sidelog serve``: piped stdin read as a line source.

``cli.py`` hands ``sidelog`` and ``sidelog serve`` here; with stdin a terminal (or
``/dev/null``: nothing to read) they run exactly as before. With a pipe, a socket
or a file on stdin, its lines become events (``sidelog.sources.stdin``): under the
UI, which then reads its keys from ``/dev/tty``; headless, beside the usual
``serve``, which keeps serving after the pipe ends (other apps may still report)
and prints one line saying how the input ended.

The line-source modules are imported only when stdin is not a terminal: the usual
``sidelog`` in a terminal never loads them before its first paint.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys

from sidelog.config import Settings

__all__ = ["run_serve", "run_ui", "stdin_piped"]


def stdin_piped(fd: int = 0) -> bool:
    """Whether ``fd`` has lines to read (a terminal never has: no import needed to say so)."""
    if os.isatty(fd):
        return False
    from sidelog.sources.stdin import readable_stdin

    return readable_stdin(fd)


def run_ui(settings: Settings) -> int:
    """``sidelog``: the UI, reading piped stdin as a source when there is one."""
    if not stdin_piped(0):
        gc.disable()  # no full collections over the UI's imports: back on at its first frame (tui/app.py)
        from sidelog.tui.run import run_app

        return run_app(settings)
    from sidelog.sources.stdin import StdinError, take_stdin

    try:
        stdin = take_stdin()
    except StdinError as exc:
        print(f"sidelog: {exc}", file=sys.stderr)
        return 1
    from sidelog.tui.piped import run_piped_app

    return run_piped_app(settings, stdin)


def run_serve(settings: Settings) -> int:
    """``sidelog serve``: headless, reading piped stdin as a source when there is one."""
    from sidelog.commands.serve import serve

    stdin = open(0, "rb", closefd=False) if stdin_piped(0) else None  # noqa: SIM115 - fd 0 stays open
    return asyncio.run(serve(settings, stdin))
