"""Piped stdin as a source: ``CMD | sidelog serve`` headless, ``CMD | sidelog`` under the UI."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from sidelog.config import Settings
from sidelog.tui.piped import PipedApp
from tests.support.wait import until

SIDELOG = [sys.executable, "-m", "sidelog"]
LINES = (
    b"server ready on :3000\n"
    b"\x1b[31mERROR\x1b[0m db down\n"
    b'{"level":40,"time":1700000000000,"pid":7,"hostname":"h","msg":"pino warning"}\n'
    b"Traceback (most recent call last):\n"
    b'  File "app.py", line 1, in <module>\n'
    b"ValueError: bad input\n"
)
EXPECTED = [
    ("info", "stdin", "stdin", "server ready on :3000"),
    ("error", "stdin", "stdin", "ERROR db down"),
    ("warn", "stdin", "stdin", "pino warning"),
    ("error", "stdin", "stdin", "ValueError: bad input"),  # the traceback's three lines, one event
]


def _events(db: Path) -> list[tuple[str, str, str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(
                "SELECT level, category, source, message FROM events WHERE source != 'system' ORDER BY id"
            ).fetchall()
        except sqlite3.OperationalError:  # the server is still creating its schema
            return []


async def test_serve_reads_piped_stdin_and_keeps_serving_after_it_ends(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    process = await asyncio.create_subprocess_exec(
        *SIDELOG,
        "serve",
        "--db",
        str(db),
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "off",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        listening = await asyncio.wait_for(process.stdout.readline(), 30)
        assert listening.startswith(b"listening tcp 127.0.0.1:")
        process.stdin.write(LINES)
        await process.stdin.drain()
        process.stdin.close()  # the piped command ends
        ended = await asyncio.wait_for(process.stderr.readline(), 30)
        assert ended.startswith(b"stdin ended: 4 events sent, stored 4"), ended
        assert _events(db) == EXPECTED
        assert process.returncode is None  # still serving other apps
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0


async def test_the_ui_without_a_terminal_says_so_in_one_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *SIDELOG,
        "--db",
        str(tmp_path / "events.db"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
    )
    out, err = await asyncio.wait_for(process.communicate(b"a line\n"), 30)
    assert process.returncode == 1
    assert out == b""
    assert err.count(b"\n") == 1
    assert err.startswith(b"sidelog: stdin is a pipe and there is no terminal for the UI (/dev/tty: ")
    assert b"use `sidelog serve`" in err


async def test_piped_app_shows_the_lines_and_stays_up_after_the_pipe_ends(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(enable_system_logging=False)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb")
    app = PipedApp(settings, stdin)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await asyncio.wait_for(app.ready.wait(), 10)
            os.write(write_fd, LINES)
            os.close(write_fd)
            write_fd = -1
            await until(lambda: app.stdin_outcome is not None, message="the pipe read to its end")
            assert app.stdin_outcome == "stdin ended: 4 events sent, stored 4 · pino 1, text 3"
            assert _events(settings.db) == EXPECTED
            assert app.is_running  # the UI stays up to triage what arrived
            await pilot.press("q")
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        stdin.close()


def test_piped_ui_reads_keys_from_the_terminal(tmp_path: Path) -> None:
    """The real command in a pseudo-terminal: lines from the pipe on screen, ``q`` from the tty quits."""
    import fcntl
    import pty
    import struct
    import subprocess
    import termios
    import threading

    from tests.support.wait import until_sync

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))

    def controlling_terminal() -> None:  # in the child: a session whose terminal is the pty
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    db = tmp_path / "events.db"
    process = subprocess.Popen(
        [*SIDELOG, "--db", str(db), "--tcp", "127.0.0.1:0", "--http", "off"],
        stdin=subprocess.PIPE,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        preexec_fn=controlling_terminal,  # noqa: PLW1509 - no threads yet in this test
    )
    os.close(slave)
    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert process.stdin is not None
        process.stdin.write(LINES)
        process.stdin.flush()
        until_sync(lambda: _events(db) == EXPECTED, timeout=30, message="the piped lines stored")
        until_sync(lambda: b"db down" in screen, timeout=30, message="the lines on screen")
        os.write(master, b"q")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdin is not None:
            process.stdin.close()
        os.close(master)
        reader.join(5)
    assert b"stopped: " in screen
