"""Real child processes: output capture, lifecycle, stop/kill, pipes held open, bad commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from sidelog.sources.child import Child, ChildError, Exited, Lifecycle, Started, child_env, run_child
from tests.sources.support import (
    CLOSES_STDOUT,
    FAST,
    FORKS_DAEMON,
    HANDLES_SIGNALS,
    IGNORES_SIGTERM,
    MIXED,
    PRINTS_ENV,
    script,
)
from tests.support.wait import until


class Collector:
    """Records every line and lifecycle fact a child hands on."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, bytes]] = []
        self.facts: list[Lifecycle] = []

    def on_line(self, stream: str, text: str, raw: bytes) -> None:
        self.lines.append((stream, text, raw))

    def on_lifecycle(self, fact: Lifecycle) -> None:
        self.facts.append(fact)

    def texts(self, stream: str | None = None) -> list[str]:
        return [text for s, text, _ in self.lines if stream is None or s == stream]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap_or_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def test_both_streams_line_by_line_and_the_exit_status(tmp_path: Path) -> None:
    seen = Collector()
    child = Child(script(tmp_path, "mixed.py", MIXED), on_line=seen.on_line, on_lifecycle=seen.on_lifecycle)
    await child.start()
    result = await child.wait()
    assert (result.status, result.signal) == (3, None)
    assert seen.texts("stdout") == [
        '{"message": "json on stdout", "level": "debug", "category": "api"}',
        'time=2024-05-01T12:00:00Z level=error msg="logfmt failure" user=u_1',
        "\x1b[32mINFO\x1b[0m \x1b[1mcoloured\x1b[0m text",
        "plain stdout line",
    ]
    assert seen.texts("stderr") == [
        '{"message": "json on stderr", "level": "warn"}',
        "a plain stderr line",
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
        "ValueError: boom",
    ]
    assert result.stats.lines == {"stdout": 4, "stderr": 5}
    started, exited = seen.facts
    assert isinstance(started, Started)
    assert started.pid == result.pid
    assert started.argv == child.argv
    assert exited == Exited(result.pid, 3, None, stopped=False)


async def test_async_callbacks_are_awaited_in_order(tmp_path: Path) -> None:
    got: list[str] = []

    async def on_line(stream: str, text: str, raw: bytes) -> None:
        await asyncio.sleep(0)
        got.append(text)

    result = await run_child(script(tmp_path, "mixed.py", MIXED), on_line=on_line, forward_signals=False)
    assert result.status == 3
    assert len(got) == 9
    assert got[-1] == "ValueError: boom"


async def test_a_slow_consumer_drops_oldest_lines_and_never_stalls_the_child(tmp_path: Path) -> None:
    total = 200_000
    budget = 64 * 1024
    got: list[str] = []

    async def slow(stream: str, text: str, raw: bytes) -> None:
        got.append(text)
        await asyncio.sleep(0.001)

    child = Child([*script(tmp_path, "fast.py", FAST), str(total)], on_line=slow, max_pending_bytes=budget)
    await child.start()
    result = await child.wait()
    stats = result.stats
    assert result.status == 0
    # The pipe was drained faster than the consumer took lines: the excess was dropped,
    # counted, and the queue never held more than its budget.
    assert stats.dropped_lines > 0
    assert len(got) + stats.dropped_lines == total + 1
    assert stats.lines["stdout"] == total + 1
    assert stats.max_pending_bytes <= budget
    assert got[-1] == "last line"  # the newest output survives


async def test_a_fast_child_with_a_fast_consumer_loses_nothing(tmp_path: Path) -> None:
    seen = Collector()
    # ~10 MB of output within a budget that holds all of it: nothing may be dropped, however
    # slowly a loaded machine lets the consumer run.
    result = await run_child(
        [*script(tmp_path, "fast.py", FAST), "100000"],
        on_line=seen.on_line,
        forward_signals=False,
        max_pending_bytes=64 * 1024 * 1024,
    )
    assert result.stats.dropped_lines == 0
    assert len(seen.lines) == 100_001
    assert seen.lines[12345][1].startswith("00012345 ")


async def test_stop_escalates_to_sigkill_for_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    seen = Collector()
    child = Child(
        script(tmp_path, "stubborn.py", IGNORES_SIGTERM),
        on_line=seen.on_line,
        on_lifecycle=seen.on_lifecycle,
        grace_s=0.2,
    )
    await child.start()
    waiting = asyncio.create_task(child.wait())
    await until(lambda: seen.texts() == ["ready"], message="child ready")
    started = time.monotonic()
    await child.stop()
    result = await waiting
    assert time.monotonic() - started >= 0.2  # SIGTERM was ignored for the whole grace period
    assert (result.status, result.signal) == (128 + signal.SIGKILL, signal.SIGKILL)
    assert seen.facts[-1] == Exited(result.pid, 137, signal.SIGKILL, stopped=True)


async def test_signals_reach_the_whole_process_group(tmp_path: Path) -> None:
    seen = Collector()
    child = Child(script(tmp_path, "handles.py", HANDLES_SIGNALS), on_line=seen.on_line, grace_s=5)
    await child.start()
    waiting = asyncio.create_task(child.wait())
    await until(lambda: any(t.startswith("ready") for t in seen.texts()), message="child ready")
    worker = int(seen.texts()[0].split()[1])
    child.send_signal(signal.SIGINT)  # what a forwarded Ctrl+C does
    result = await waiting
    assert result.status == 42
    assert f"got signal {int(signal.SIGINT)}" in seen.texts()
    # The child's own worker was in the group too, so it got SIGINT as well.
    await until(lambda: not _alive(worker), message="worker gone")


async def test_a_daemon_holding_the_pipe_does_not_keep_us_waiting(tmp_path: Path) -> None:
    seen = Collector()
    child = Child(script(tmp_path, "forks.py", FORKS_DAEMON), on_line=seen.on_line, drain_s=0.1)
    await child.start()
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(child.wait(), 20)
    finally:
        daemons = [int(t.split()[1]) for t in seen.texts() if t.startswith("daemon ")]
        for pid in daemons:
            _reap_or_kill(pid)
    assert result.status == 0
    assert daemons
    assert time.monotonic() - started < 10


async def test_a_child_that_closes_its_output_is_waited_for(tmp_path: Path) -> None:
    seen = Collector()
    closed, go = tmp_path / "closed", tmp_path / "go"
    child = Child([*script(tmp_path, "closes.py", CLOSES_STDOUT), str(closed), str(go)], on_line=seen.on_line)
    await child.start()
    waiting = asyncio.create_task(child.wait())
    await until(closed.exists, message="child closed its output")
    await until(lambda: all(pipe.closed.done() for pipe in child._pipes), message="both pipes at EOF")
    assert not waiting.done()
    assert child.running
    go.write_text("go")
    result = await waiting
    assert result.status == 5
    assert seen.texts() == ["before close"]


async def test_a_missing_command_is_status_127_and_a_non_executable_one_126(tmp_path: Path) -> None:
    seen = Collector()
    with pytest.raises(ChildError, match="no-such-command-here: command not found") as missing:
        await Child(["no-such-command-here", "--flag"], on_line=seen.on_line).start()
    assert missing.value.status == 127
    plain = tmp_path / "not-executable"
    plain.write_text("echo hi\n")
    plain.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(ChildError, match="permission denied") as denied:
        await Child([str(plain)], on_line=seen.on_line).start()
    assert denied.value.status == 126


def test_no_command_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="no command"):
        Child([], on_line=lambda stream, text, raw: None)


async def test_the_child_sees_our_environment_plus_the_extras(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRA_FROM_TEST", "inherited")
    seen = Collector()
    env = child_env({"SIDELOG_ADDRESS": "127.0.0.1:9", "SENTRY_SPOTLIGHT": "http://127.0.0.1:10/stream"})
    await run_child(
        script(tmp_path, "env.py", PRINTS_ENV), on_line=seen.on_line, env=env, forward_signals=False
    )
    assert seen.texts() == [
        "env SIDELOG_ADDRESS=127.0.0.1:9",
        "env SENTRY_SPOTLIGHT=http://127.0.0.1:10/stream",
        "env OTEL_EXPORTER_OTLP_ENDPOINT=None",
        "env EXTRA_FROM_TEST=inherited",
    ]


async def test_a_failing_consumer_stops_the_child_and_raises(tmp_path: Path) -> None:
    def broken(stream: str, text: str, raw: bytes) -> None:
        raise RuntimeError("sink broke")

    child = Child(script(tmp_path, "stubborn.py", IGNORES_SIGTERM), on_line=broken, grace_s=0.1)
    await child.start()
    with pytest.raises(RuntimeError, match="sink broke"):
        await child.wait()
    assert not child.running
