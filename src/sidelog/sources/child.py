"""Run a command as a child and hand on its stdout and stderr line by line.

The child runs in its own process group (``start_new_session=True``), so a signal
reaches everything it started (a dev server's workers, ``npm``'s node) and never
our own terminal's job. Its pipes are always drained: lines go into a queue
bounded in bytes, and when the consumer (the sink) is slower than the child, the
oldest queued lines are dropped and counted, so a child printing 50 MB/s never
blocks on a full pipe and memory stays bounded.

The child's exit is watched on its own (a thread waiting on the pid), not through
pipe EOF: a child may close stdout and keep running, and a daemon it forked may
keep the pipe open after the child is gone. After the exit, pipes are read for
``drain_s`` more seconds and then let go (later writes by such a daemon are not
captured). Exit statuses are shell-style: ``128 + N`` for a child killed by
signal N, 127 for a command that does not exist, 126 for one that cannot run.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sidelog.sources.lines import MAX_LINE_BYTES, Line, LineSplitter

GRACE_PERIOD_S = 5.0
"""Seconds between SIGTERM to the child's process group and SIGKILL (README, ``sidelog run``)."""
DRAIN_TIMEOUT_S = 1.0
"""Seconds the pipes are still read after the child exited (a forked daemon may hold them)."""
MAX_PENDING_BYTES = 8 * 1024 * 1024
"""Bytes of lines waiting for the consumer before the oldest are dropped."""

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What ``sidelog run`` passes on to the child's process group."""

OnLine = Callable[[str, str, bytes], Awaitable[None] | None]
"""``(stream, text, raw)`` for each line; ``stream`` is ``stdout`` or ``stderr``."""


class ChildError(RuntimeError):
    """The command could not be started; ``status`` is the shell's status for it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Started:
    """Lifecycle fact: the child is running."""

    pid: int
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Exited:
    """Lifecycle fact: the child is gone and its output handed on."""

    pid: int
    status: int
    """Shell-style exit status (``128 + signal`` when killed by one)."""
    signal: int | None
    """The signal that ended it, if any."""
    stopped: bool
    """True when it ended after a stop or a forwarded signal, not on its own."""


Lifecycle = Started | Exited
OnLifecycle = Callable[[Lifecycle], Awaitable[None] | None]


@dataclass(slots=True)
class ChildStats:
    """What went through the pipes."""

    lines: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})
    dropped_lines: int = 0
    """Lines dropped because the consumer fell behind."""
    dropped_bytes: int = 0
    cut_lines: int = 0
    max_pending_bytes: int = 0
    """High-water mark of the queue (stays at or under ``max_pending_bytes``)."""


@dataclass(frozen=True, slots=True)
class ChildResult:
    """How the child ended."""

    pid: int
    status: int
    signal: int | None
    stats: ChildStats


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Our environment plus ``extra`` (which wins): what the child sees."""
    return {**os.environ, **extra}


class _Pipe(asyncio.Protocol):
    """Reads one pipe: echo the bytes, split them, queue the lines. Never pauses."""

    def __init__(self, child: Child, stream: str, echo: IO[bytes] | None, limit: int) -> None:
        self._child = child
        self._stream = stream
        self._echo = echo
        self._splitter = LineSplitter(limit)
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._echo is not None:
            with contextlib.suppress(OSError, ValueError):
                self._echo.write(data)
                self._echo.flush()
        self._child._enqueue(self._stream, self._splitter.feed(data))

    def connection_lost(self, exc: Exception | None) -> None:
        # EOF, a read error or our own close after the drain timeout: a final
        # unterminated line still counts.
        self._child._enqueue(self._stream, self._splitter.finish())
        self._child.stats.cut_lines += self._splitter.cut_lines
        if not self.closed.done():
            self.closed.set_result(None)


class Child:
    """One command run as a child; ``start`` then ``wait`` (``stop`` or ``send_signal`` from anywhere)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        on_line: OnLine,
        on_lifecycle: OnLifecycle | None = None,
        env: Mapping[str, str] | None = None,
        echo: bool = False,
        grace_s: float = GRACE_PERIOD_S,
        drain_s: float = DRAIN_TIMEOUT_S,
        max_pending_bytes: int = MAX_PENDING_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
        stdin: int | None = None,
    ) -> None:
        if not argv:
            raise ValueError("no command given")
        self.argv = tuple(argv)
        self.stats = ChildStats()
        self._on_line = on_line
        self._on_lifecycle = on_lifecycle
        self._env = dict(env) if env is not None else None
        self._echo = echo
        self._grace_s = grace_s
        self._drain_s = drain_s
        self._max_pending = max_pending_bytes
        self._max_line = max_line_bytes
        self._stdin = stdin
        self._queue: deque[tuple[str, Line]] = deque()
        self._pending = 0
        self._wake = asyncio.Event()
        self._pipes: list[_Pipe] = []
        self._popen: subprocess.Popen[bytes] | None = None
        self._exit: asyncio.Future[int] | None = None
        self._stopping = False
        self._kill_timer: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid (also its process group id) once started."""
        return self._popen.pid if self._popen is not None else None

    @property
    def running(self) -> bool:
        """True from ``start`` until the child has been reaped."""
        return self._exit is not None and not self._exit.done()

    async def start(self) -> None:
        """Start the child; ``ChildError`` (status 127 or 126) if it cannot run."""
        try:
            popen = _spawn(self.argv, self._env, self._stdin)
        except FileNotFoundError:
            raise ChildError(f"{self.argv[0]}: command not found", 127) from None
        except PermissionError:
            raise ChildError(f"{self.argv[0]}: permission denied", 126) from None
        except OSError as exc:
            raise ChildError(f"{self.argv[0]}: {exc.strerror or exc}", 126) from None
        self._popen = popen
        loop = asyncio.get_running_loop()
        # A thread per child waits on the pid, so the exit is seen even while a
        # forked daemon keeps the pipes open (pipe EOF would never come).
        self._exit = asyncio.ensure_future(asyncio.to_thread(popen.wait))
        for stream, pipe, target in (
            ("stdout", popen.stdout, sys.stdout),
            ("stderr", popen.stderr, sys.stderr),
        ):
            assert pipe is not None
            echo = _binary(target) if self._echo else None
            reader = _Pipe(self, stream, echo, self._max_line)
            await loop.connect_read_pipe(_reader(reader), pipe)
            self._pipes.append(reader)
        await self._emit(Started(popen.pid, self.argv))

    async def wait(self) -> ChildResult:
        """Hand on every line until the child exits (plus the drain time); its status.

        If the consumer raises, the child is stopped and the error re-raised.
        """
        popen, exit_future = self._popen, self._exit
        if popen is None or exit_future is None:
            raise RuntimeError("wait() before start()")
        consumer = asyncio.create_task(self._consume(), name=f"child-{popen.pid}-lines")
        try:
            first: list[asyncio.Future[Any]] = [exit_future, consumer]
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            failure = consumer.exception() if consumer.done() else None
            if failure is not None:
                await self.stop()
                raise failure
            returncode = await exit_future
            closing = [pipe.closed for pipe in self._pipes if not pipe.closed.done()]
            if closing:
                await asyncio.wait(closing, timeout=self._drain_s)
            for pipe in self._pipes:
                if pipe.transport is not None and not pipe.closed.done():
                    pipe.transport.close()
            await asyncio.gather(*(pipe.closed for pipe in self._pipes))
            self._wake.set()
            await consumer
        except BaseException:
            consumer.cancel()
            self._kill_group(signal.SIGKILL)
            raise
        finally:
            if self._kill_timer is not None:
                self._kill_timer.cancel()
        status, signum = _shell_status(returncode)
        await self._emit(Exited(popen.pid, status, signum, self._stopping))
        return ChildResult(popen.pid, status, signum, self.stats)

    async def stop(self) -> None:
        """SIGTERM to the process group; SIGKILL if it is still alive after the grace period."""
        self.send_signal(signal.SIGTERM)
        if self._exit is not None:
            await asyncio.wait([self._exit])

    def send_signal(self, signum: int) -> None:
        """Pass ``signum`` to the process group and arm the SIGKILL timer; a second call kills now.

        This is what the signals received by ``sidelog run`` do (``forward_signals``).
        """
        if not self.running:
            return
        if self._stopping:
            self._kill_group(signal.SIGKILL)
            return
        self._stopping = True
        self._kill_group(signum)
        loop = asyncio.get_running_loop()
        self._kill_timer = loop.call_later(self._grace_s, self._kill_group, signal.SIGKILL)

    @contextlib.contextmanager
    def forward_signals(self, signums: Sequence[int] = FORWARDED_SIGNALS) -> Iterator[Child]:
        """While inside, these signals sent to us go to the child's group (main thread only).

        The child has its own session, so the terminal's Ctrl+C (and hang-up) reach
        only us: without forwarding, closing the terminal would orphan it.
        """
        loop = asyncio.get_running_loop()
        for signum in signums:
            loop.add_signal_handler(signum, self.send_signal, signum)
        try:
            yield self
        finally:
            for signum in signums:
                loop.remove_signal_handler(signum)

    # internals -----------------------------------------------------------------

    def _kill_group(self, signum: int) -> None:
        # Only while the child is unreaped: its pid (the group id) cannot be reused before.
        if self._popen is None or not self.running:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def _enqueue(self, stream: str, lines: list[Line]) -> None:
        if not lines:
            return
        stats = self.stats
        stats.lines[stream] += len(lines)
        queue = self._queue
        for line in lines:
            queue.append((stream, line))
            self._pending += len(line.raw) + 64
        while self._pending > self._max_pending and queue:
            _, dropped = queue.popleft()
            self._pending -= len(dropped.raw) + 64
            stats.dropped_lines += 1
            stats.dropped_bytes += dropped.size
        stats.max_pending_bytes = max(stats.max_pending_bytes, self._pending)
        self._wake.set()

    async def _consume(self) -> None:
        queue = self._queue
        on_line = self._on_line
        done = 0
        while True:
            while queue:
                stream, line = queue.popleft()
                self._pending -= len(line.raw) + 64
                result = on_line(stream, line.text, line.raw)
                if result is not None:
                    await result
                done += 1
                if done % 256 == 0:
                    # A synchronous callback never yields: let the pipes be read.
                    await asyncio.sleep(0)
            if all(pipe.closed.done() for pipe in self._pipes):
                return
            self._wake.clear()
            await self._wake.wait()

    async def _emit(self, fact: Lifecycle) -> None:
        if self._on_lifecycle is None:
            return
        result = self._on_lifecycle(fact)
        if inspect.isawaitable(result):
            await result


def _spawn(argv: Sequence[str], env: Mapping[str, str] | None, stdin: int | None) -> subprocess.Popen[bytes]:
    # Popen, not asyncio's subprocess: the exit is watched apart from the pipes
    # (asyncio's wait() also waits for pipe EOF). fork+exec returns at once.
    return subprocess.Popen(
        argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
    )


def _reader(pipe: _Pipe) -> Callable[[], _Pipe]:
    return lambda: pipe


def _binary(stream: Any) -> IO[bytes] | None:
    """The byte stream under a text stream (``sys.stdout.buffer``), if it has one."""
    return getattr(stream, "buffer", None)


def _shell_status(returncode: int) -> tuple[int, int | None]:
    if returncode < 0:
        return 128 - returncode, -returncode
    return returncode, None


async def run_child(
    argv: Sequence[str], *, on_line: OnLine, forward_signals: bool = True, **options: Any
) -> ChildResult:
    """Start ``argv``, forward ``FORWARDED_SIGNALS`` to it while it runs, and wait for it."""
    child = Child(argv, on_line=on_line, **options)
    await child.start()
    if not forward_signals:
        return await child.wait()
    with child.forward_signals():
        return await child.wait()
