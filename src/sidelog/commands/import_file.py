"""``sidelog import FILE… [--follow] [--to ADDR]``: files and pipes into a running sidelog.

Each line (a stack trace: its lines together, ``sources/join.py``) becomes an
event (``sources/sink.py`` ``line_to_event``) carrying an
idempotency key (``sources/files.py`` ``LineKeys``), so importing the same file
twice, a copy of it, or its gzipped rotation stores its lines once, and an
interrupted import can simply be run again. ``-`` (or no FILE when stdin is not
a terminal) reads stdin. ``--follow`` keeps reading files as they grow, across
rotation and truncation, until Ctrl+C. A progress bar is drawn on stderr when it
is a terminal; one summary line is always printed there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import stat
import sys
from collections.abc import Sequence

from sidelog.commands.common import CommandError
from sidelog.sources.files import MAX_DECOMPRESSED_BYTES, POLL_S, FileReader, Readable, SourceError
from sidelog.sources.join import BlockJoiner
from sidelog.sources.progress import Progress
from sidelog.sources.sink import DEFAULT_ADDRESS, Sink, SinkError, SourceLine, Summary
from sidelog.sources.tcp_sink import TcpSink

EXIT_USAGE = 2


def run_import(args: argparse.Namespace) -> int:
    """Entry point from ``cli.py``: 0 when every source was read, 1 if one failed, 2 for usage."""
    paths: list[str] = list(args.files)
    stdin_is_tty = sys.stdin is None or sys.stdin.isatty()
    if not paths:
        if stdin_is_tty:
            return _usage("no FILE given and stdin is a terminal (pipe something in, or name files)")
        paths = ["-"]
    if paths.count("-") > 1:
        return _usage("stdin (-) can be read only once")
    cap = args.max_decompressed
    if cap is not None and not 0 < cap <= 1024 * 1024:  # at most 1 TiB: a cap, not a way to turn it off
        return _usage(f"--max-decompressed must be a number of MB above 0 and at most 1048576, got {cap:g}")
    if "-" in paths and stdin_is_tty:
        return _usage("stdin (-) is a terminal: pipe something in")
    if not args.follow:  # with --follow a missing file is waited for, like tail -F
        for path in paths:
            problem = _unreadable(path)
            if problem:
                print(f"sidelog: {problem}", file=sys.stderr)
                return 1
    address = args.to or os.environ.get("SIDELOG_ADDRESS") or DEFAULT_ADDRESS
    max_bytes = int(cap * 1024 * 1024) if cap is not None else MAX_DECOMPRESSED_BYTES
    return asyncio.run(_import_to(address, paths, args.follow, args.name, max_bytes))


async def _import_to(address: str, paths: list[str], follow: bool, name: str | None, max_bytes: int) -> int:
    sink = TcpSink(address)
    try:
        await sink.connect()
    except SinkError as exc:
        raise CommandError(str(exc)) from None
    return await import_files(paths, sink, follow=follow, name=name, max_decompressed_bytes=max_bytes)


def category_for(path: str) -> str:
    """The category of a file's lines: its name up to the first dot (``app.log.1.gz`` → ``app``)."""
    if path == "-":
        return "stdin"
    base = os.path.basename(path.rstrip("/"))
    return base.split(".", 1)[0] or base or "import"


async def import_files(
    paths: Sequence[str],
    sink: Sink,
    *,
    follow: bool = False,
    name: str | None = None,
    poll_s: float = POLL_S,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    stdin: Readable | None = None,
    handle_signals: bool = True,
) -> int:
    """Import ``paths`` through a ready ``sink``; print the summary; the exit status.

    Without ``follow`` the files are read one after the other; with it, all at
    once until ``stop`` is set (SIGINT/SIGTERM set it when ``handle_signals``).
    """
    progress = progress if progress is not None else Progress()
    stop = stop if stop is not None else asyncio.Event()
    readers = [
        FileReader(
            path,
            follow=follow,
            poll_s=poll_s,
            max_decompressed_bytes=max_decompressed_bytes,
            stdin=stdin,
        )
        for path in paths
    ]
    failures: list[str] = []

    async def read(reader: FileReader) -> None:
        category = name or category_for(reader.path)
        stream = "stdin" if reader.path == "-" else "file"
        joiner = BlockJoiner()
        open_block = False
        try:
            async for batch in reader.batches():
                if batch:
                    done: list[SourceLine] = []
                    for line in batch:
                        text = line.text
                        source_line = SourceLine(text, stream, category, line.key, "import")
                        if text[:1] == "{" and text[-1:] == "}" and not open_block:
                            # What the joiner does with a JSON object line when no block is
                            # open (it passes through), without its cost on every line of a JSONL file.
                            done.append(source_line)
                        else:
                            done += joiner.feed(source_line)
                            open_block = joiner.pending
                    await sink.lines(done)
                else:  # caught up while following: end open blocks, confirm what was sent
                    await sink.lines(joiner.flush())
                    open_block = False
                    await sink.flush()
        except SourceError as exc:
            failures.append(str(exc))
        await sink.lines(joiner.flush())

    async def all_readers() -> None:
        if follow:
            await asyncio.gather(*(read(reader) for reader in readers))
        else:
            for reader in readers:
                await read(reader)

    async def draw() -> None:
        label = "following" if follow else "importing"
        while True:
            progress.update(
                sum(r.consumed for r in readers),
                sum(r.total or 0 for r in readers) or None,
                sum(r.lines for r in readers),
                sink.summary.stored,
                label=label,
            )
            await asyncio.sleep(progress.every_s)

    loop = asyncio.get_running_loop()
    signums = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for signum in signums:
        loop.add_signal_handler(signum, stop.set)
    work = asyncio.create_task(all_readers(), name="import-read")
    drawer = asyncio.create_task(draw(), name="import-progress")
    stopper = asyncio.create_task(stop.wait(), name="import-stop")
    interrupted = False
    try:
        await asyncio.wait([work, stopper], return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            interrupted = True
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        else:
            work.result()  # a SinkError surfaces here
        summary = await sink.close()
    except SinkError as exc:
        progress.finish(f"sidelog: {exc}")
        return 1
    finally:
        for task in (drawer, stopper, work):
            task.cancel()
        for signum in signums:
            loop.remove_signal_handler(signum)
    report = [f"sidelog: {failure}" for failure in failures]
    if not failures or any(reader.lines for reader in readers):
        report.append(_summary_line(paths, summary, progress.elapsed, readers))
    progress.finish("\n".join(report))  # a refused file alone gets its one line, no summary
    if failures:
        return 1
    if interrupted and not follow:
        return 130
    return 0 if summary.failed == 0 else 1


def _summary_line(paths: Sequence[str], summary: Summary, elapsed: float, readers: list[FileReader]) -> str:
    what = "stdin" if list(paths) == ["-"] else (paths[0] if len(paths) == 1 else f"{len(paths)} files")
    lines = sum(reader.lines for reader in readers)
    rate = lines / elapsed if elapsed > 0 else 0.0
    text = f"imported {what}: {lines:,} lines · {summary.describe()} · {elapsed:.1f} s, {rate:,.0f} lines/s"
    cut = sum(reader.cut_lines for reader in readers)
    if cut:
        text += f" · {cut:,} over-long lines cut"
    return text


def _unreadable(path: str) -> str | None:
    """Why ``path`` cannot be imported at all, checked before connecting (None when it may be)."""
    if path == "-":
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"{path}: no such file"
    except OSError as exc:
        return f"{path}: {(exc.strerror or str(exc)).lower()}"
    if stat.S_ISDIR(info.st_mode):
        return f"{path}: is a directory"
    if not os.access(path, os.R_OK):
        return f"{path}: permission denied"
    return None


def _usage(message: str) -> int:
    print(f"sidelog import: error: {message}", file=sys.stderr)
    return EXIT_USAGE
