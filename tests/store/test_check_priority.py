"""The background integrity check runs below the rest of sidelog's CPU priority.

Over a large store it reads the whole file for seconds right at start-up; on a busy
machine the UI's first paint must not wait behind it. The calling (shared worker)
thread keeps its priority: an unprivileged thread could not raise it again.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.store.checks import BACKGROUND_NICENESS, BackgroundCheck, lower_priority
from sidelog.store.errors import StoreError
from tests.store.support import garbage_page, make_store

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's")


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _on_a_thread(work: Callable[[], object]) -> tuple[int, int, object]:
    """Run ``work()`` on a fresh thread; return its priority before and after, and the outcome."""
    seen: list[tuple[int, int, object]] = []

    def body() -> None:
        before = _priority()
        outcome: object
        try:
            outcome = work()
        except Exception as exc:
            outcome = exc
        seen.append((before, _priority(), outcome))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return seen[0]


@linux_only
def test_lower_priority_lowers_the_calling_thread_only() -> None:
    mine = _priority()
    before, after, _ = _on_a_thread(lower_priority)
    assert after == min(before + BACKGROUND_NICENESS, 19)
    assert _priority() == mine


@linux_only
async def test_the_check_leaves_its_callers_priority_and_still_fails_a_damaged_file(tmp_path: Path) -> None:
    sound, damaged = tmp_path / "sound.db", tmp_path / "damaged.db"
    await make_store(sound, count=10)
    await make_store(damaged, count=10)
    garbage_page(damaged)

    before, after, outcome = _on_a_thread(BackgroundCheck(sound).run)
    assert outcome is None
    assert after == before

    before, after, outcome = _on_a_thread(BackgroundCheck(damaged).run)
    assert isinstance(outcome, StoreError)
    assert "is damaged" in str(outcome)
    assert after == before
