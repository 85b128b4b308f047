"""At interpreter exit: buffered events are flushed, and a missing sidelog costs no waiting."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from sidelog.engine import Engine
from tests.client.conftest import free_port, stored
from tests.conftest import tcp_port

SCRIPT = """
import sys
from sidelog_client import EventLogger
# nothing goes out before exit; a long exit timeout, so giving up early is plain to see
log = EventLogger(sys.argv[1], batch_interval_ms=60_000, exit_timeout=60.0)
for i in range(int(sys.argv[2])):
    log.event(f"event {i}")
"""


def run(address: str, count: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, address, str(count)], capture_output=True, text=True, timeout=90
    )


async def test_buffered_events_are_flushed_at_exit(engine: Engine) -> None:
    result = await asyncio.to_thread(run, f"127.0.0.1:{tcp_port(engine)}", 500)
    assert result.returncode == 0
    assert result.stderr == ""
    assert [row["message"] for row in stored(engine.settings.db)] == [f"event {i}" for i in range(500)]


def test_exit_with_sidelog_down_is_quick_and_says_what_was_lost() -> None:
    started = time.perf_counter()
    result = run(f"127.0.0.1:{free_port()}", 3)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    assert "sidelog: 3 events not delivered to 127.0.0.1:" in result.stderr
    # The exit flush gives up after one refused connection instead of waiting out the 60 s
    # exit timeout: any busy machine starts and stops an interpreter well inside 30 s.
    assert elapsed < 30


FORK_SCRIPT = """
import os, sys
from sidelog_client import EventLogger
log = EventLogger(sys.argv[1])
log.event("parent before fork")
assert log.flush(10)
pid = os.fork()
if pid == 0:
    log.event("from the child")
    sys.exit(0)  # the exit flush runs in the child too
log.event("parent after fork")
assert log.flush(10)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


async def test_a_forked_child_gets_its_own_sender_and_ids(engine: Engine) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", FORK_SCRIPT, f"127.0.0.1:{tcp_port(engine)}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    rows = stored(engine.settings.db)
    assert sorted(row["message"] for row in rows) == [
        "from the child",
        "parent after fork",
        "parent before fork",
    ]
    assert len({row["event_uid"] for row in rows}) == 3
