"""``Batcher.run_job``: a long job as short writer turns, with batches written between them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sidelog.events import now_ms
from sidelog.pipeline.batcher import JobAbandoned
from tests.store.support import event, open_stack, rows, write
from tests.support.wait import until


async def test_batches_are_written_between_the_steps_of_a_job(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    total = 300
    async with open_stack(db, interval_s=0.05) as stack:
        steps = 0

        async def step() -> bool:
            nonlocal steps
            steps += 1
            async with stack.writer.conn.begin():  # one short transaction, as a real step
                await stack.writer.conn.exec_driver_sql("SELECT count(*) FROM events")
            return steps < total

        job = asyncio.create_task(stack.batcher.run_job(step))
        await until(lambda: steps >= 3, message="the job under way")
        origin = await write(stack, [event("between steps", received_at=now_ms())])
        synced_at = steps
        await job
    assert origin.stored == 1
    assert synced_at < total // 2  # answered between steps, not after the job
    assert steps == total
    assert rows(db, "SELECT message FROM events") == [("between steps",)]


async def test_a_failing_step_ends_its_job_and_the_writer_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_stack(db) as stack:

        async def broken() -> bool:
            async with stack.writer.conn.begin():
                await stack.writer.conn.exec_driver_sql("SELECT * FROM no_such_table")
            return True

        with pytest.raises(Exception, match="no_such_table"):
            await stack.batcher.run_job(broken)
        origin = await write(stack, [event("still writing", received_at=now_ms())])
    assert origin.stored == 1


async def test_a_job_left_at_stop_is_abandoned(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    async with open_stack(db) as stack:
        started = asyncio.Event()

        async def endless() -> bool:
            started.set()
            return True

        job = asyncio.create_task(stack.batcher.run_job(endless))
        await started.wait()
        stack.batcher.stop()
    with pytest.raises(JobAbandoned):
        await job
