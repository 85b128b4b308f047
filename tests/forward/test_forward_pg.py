"""Forwarding from a PostgreSQL store that several servers write: nothing skipped.

Ids there are drawn when rows are inserted and transactions commit in any order, so a
forwarder that read "everything above the cursor" could send server B's rows and move
its cursor past a lower id that server A's slower transaction commits afterwards. The
forwarder reads only up to a settled ceiling (sidelog/forward/settle.py); this test
holds a writer's transaction open on a low id while another server commits higher ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import event

from sidelog.config import Settings
from sidelog.forward.destination import parse_destination
from sidelog.forward.forwarder import start_forwarders
from sidelog.server import start_server
from tests.forward.conftest import FAST, OtlpReceiver, send_events
from tests.support.postgres import PostgresCluster
from tests.support.wait import until


async def test_a_late_commit_of_a_lower_id_is_forwarded_not_skipped(
    pg_cluster: PostgresCluster, make_settings: Callable[..., Settings], otlp_receiver: OtlpReceiver
) -> None:
    url = await pg_cluster.create_database()
    first = await start_server(make_settings(db=url, enable_system_logging=False))
    second = await start_server(make_settings(db=url, enable_system_logging=False))
    slow = await asyncpg.connect(url)
    try:
        (forwarder,) = start_forwarders(first.engine, [parse_destination(otlp_receiver.url)], FAST)
        await send_events(first.engine, [("a", f"early {n}") for n in range(5)])
        await until(lambda: len(otlp_receiver.records) == 5, 5, message="the first events forwarded")

        # A writer's transaction, as store/pg_outage.py makes it: its id first, then a row.
        transaction = slow.transaction()
        await transaction.start()
        await slow.fetchval("SELECT pg_current_xact_id()")
        late_id = await slow.fetchval(
            "INSERT INTO events (category, level, message, timestamp, received_at, source) "
            "SELECT category, level, 'committed late', timestamp, received_at, source "
            "FROM events ORDER BY id DESC LIMIT 1 RETURNING id"
        )
        await send_events(second.engine, [("b", f"other server {n}") for n in range(20)])
        await send_events(first.engine, [("a", "wakes the forwarder")])
        await until(lambda: forwarder.state == "settling", 5, message="the forwarder waits")
        assert max(otlp_receiver.ids()) < late_id  # nothing above the open transaction's id sent
        await transaction.commit()

        stored = [row[0] for row in await slow.fetch("SELECT id FROM events ORDER BY id")]
        assert len(stored) == 27
        await until(lambda: len(otlp_receiver.records) >= 27, 10, message="everything forwarded")
        received = otlp_receiver.ids()
        assert sorted(received) == stored  # each once, the late row included
        for source in ("a", "b"):  # in id order per source (a request groups records by source)
            ids = [record.sidelog_id for record in otlp_receiver.records if record.service == source]
            assert ids == sorted(ids)
            assert len(ids) >= 6
        assert late_id in received
        assert forwarder.failures == 0  # the cursor saved too
    finally:
        await slow.close()
        await asyncio.gather(second.stop(), first.stop())


async def test_each_batch_takes_its_transaction_id_before_drawing_event_ids(
    pg_cluster: PostgresCluster, make_settings: Callable[..., Settings]
) -> None:
    """What the settled ceiling relies on (sidelog/forward/settle.py), checked on the real writer."""
    server = await start_server(
        make_settings(db=await pg_cluster.create_database(), enable_system_logging=False)
    )
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    assert server.engine._engines is not None
    writer_engine = server.engine._engines[0]
    event.listen(writer_engine.sync_engine, "before_cursor_execute", record)
    try:
        await send_events(server.engine, [("a", "one")])
        first_xid = next(n for n, text in enumerate(statements) if "pg_current_xact_id" in text)
        first_insert = next(n for n, text in enumerate(statements) if text.startswith("INSERT INTO events"))
        assert first_xid < first_insert
    finally:
        event.remove(writer_engine.sync_engine, "before_cursor_execute", record)
        await server.stop()
