"""A shared PostgreSQL store that crashes and comes back (store/pg_outage.py, store/pg_live.py).

The real test server is stopped with ``pg_ctl stop -m immediate`` mid-stream and started
again: events sent meanwhile wait in the queue, their sync is answered only once they
are committed, health says what is wrong while it lasts, the reader pool recovers, and a
viewer's follower reconnects and catches up by id on what it missed. The process's
shared cluster is crashed and always restarted (cheaper than a cluster per test). A full
database holds events the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
import orjson
import pytest

from sidelog.config import Settings
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.server import start_server
from sidelog.store.location import parse_location
from sidelog.store.opening import make_pg_engines
from sidelog.store.pg_live import Follower
from sidelog.store.pg_outage import SharedPgWriter, SharedReader
from tests.conftest import send_lines, tcp_port
from tests.support.pg_outage import crash, durable_database, restart
from tests.support.postgres import PostgresCluster
from tests.support.wait import until


def _lines(first: int, last: int, category: str = "outage") -> bytes:
    return b"".join(
        orjson.dumps({"message": f"event {n}", "category": category}) + b"\n" for n in range(first, last)
    )


async def test_events_sent_while_the_database_is_down_are_held_and_written_when_it_returns(
    pg_cluster: PostgresCluster, make_settings: Callable[..., Settings]
) -> None:
    url = await durable_database(pg_cluster)
    server = await start_server(make_settings(db=url))
    viewer = await start_server(make_settings(db=url, tcp="off"))
    seen: list[Event] = []
    subscription = viewer.engine.subscribe()

    async def collect() -> None:
        async for batch in subscription:
            seen.extend(event for event in batch.stored if event.category == "outage")

    collecting = asyncio.create_task(collect())
    try:
        port = tcp_port(server.engine)
        assert (await send_lines(port, _lines(0, 20)))[-1] == {"ok": True, "stored": 20}
        await until(lambda: len(seen) == 20, 5, message="the viewer saw the first events")
        crash(pg_cluster)
        try:
            sending = asyncio.create_task(send_lines(port, _lines(20, 50)))

            async def failing() -> bool:
                return (await server.engine.health()).write_failing

            await until(failing, 10, message="health reports the failing writes")
            health = await server.engine.health()
            assert health.last_write_error is not None
            assert "unreachable" in health.last_write_error
            assert "\n" not in health.last_write_error
            assert not sending.done()  # no sync answered while nothing could be committed
            viewer_health = await viewer.engine.health()  # served, saying why, while reads fail
            assert viewer_health.write_failing
            assert "unreachable" in (viewer_health.last_write_error or "")
        finally:
            await asyncio.to_thread(restart, pg_cluster)
        assert (await asyncio.wait_for(sending, 20))[-1] == {"ok": True, "stored": 30}
        assert not (await server.engine.health()).write_failing
        stored = await viewer.engine.events(EventFilter(categories=frozenset({"outage"})), limit=100)
        assert sorted(event.message for event in stored) == sorted(f"event {n}" for n in range(50))
        await until(lambda: len(seen) == 50, 10, message="the viewer caught up on the held events")
        assert sorted(event.message for event in seen) == sorted(f"event {n}" for n in range(50))
        assert len({event.id for event in seen}) == 50  # each published once
        assert server.engine.counters.write_failed == 0
    finally:
        collecting.cancel()
        subscription.close()
        await viewer.stop()
        await server.stop()


@pytest.mark.parametrize("how", ["terminated", "closed"])
async def test_a_follower_catches_up_by_id_on_batches_announced_while_it_was_away(
    pg_url: str, make_settings: Callable[..., Settings], how: str
) -> None:
    server = await start_server(make_settings(db=pg_url))
    writer_engine, reader_engine = make_pg_engines(parse_location(pg_url))
    reader = SharedReader(reader_engine, "test")
    published: list[Event] = []
    changed: list[bool] = []
    follower = Follower(reader_engine.url, "viewer", reader, logging.getLogger("test"), retry_s=(0.5,))
    await follower.listen()

    def publish(events: list[Event]) -> None:
        published.extend(event for event in events if event.category == "outage")

    following = asyncio.create_task(follower.run(publish, lambda: changed.append(True)), name="test-follow")
    try:
        port = tcp_port(server.engine)
        await send_lines(port, _lines(0, 10))
        await until(lambda: len(published) == 10, 5, message="notices followed")
        if how == "terminated":  # the server drops the listening connection
            pid = follower._conn.get_server_pid()
            await server.engine.on_writer(
                lambda conn: conn.exec_driver_sql("SELECT pg_terminate_backend($1)", (pid,))
            )
        else:
            follower.close()
        # Written while the follower waits to reconnect: no notice reaches it.
        await send_lines(port, _lines(10, 30))
        await until(lambda: len(published) == 30, 10, message="caught up by id")
        assert [event.message for event in published] == [f"event {n}" for n in range(30)]
        assert follower.reconnects == 1
        assert changed == [True]  # triage it may have missed: the errors pane reloads once
        await send_lines(port, _lines(30, 35))
        await until(lambda: len(published) == 35, 5, message="notices followed again")
        assert len({event.id for event in published}) == 35
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await server.stop()
        for engine in (writer_engine, reader_engine):
            await engine.dispose()


async def test_a_full_database_holds_events_until_it_has_room_again(
    pg_url: str, make_settings: Callable[..., Settings]
) -> None:
    """A trigger raising PostgreSQL's own disk-full error (SQLSTATE 53100) stands in for the disk."""
    server = await start_server(make_settings(db=pg_url, enable_system_logging=False))
    admin = await asyncpg.connect(pg_url)
    writer = server.engine._writer
    assert isinstance(writer, SharedPgWriter)
    writer.retry_s = (0.05,)
    try:
        await admin.execute(
            "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
            "END $$; "
            "CREATE TRIGGER full_disk BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION full_disk()"
        )
        sending = asyncio.create_task(send_lines(tcp_port(server.engine), _lines(0, 10)))
        await until(
            lambda: writer.held_failures >= 6, 15, message="the batch retried past the batcher's tries"
        )
        health = await server.engine.health()
        assert health.write_failing
        assert "has no room to write" in (health.last_write_error or "")
        assert "No space left on device" in (health.last_write_error or "")
        assert not sending.done()
        await admin.execute("DROP TRIGGER full_disk ON events")
        assert (await asyncio.wait_for(sending, 15))[-1] == {"ok": True, "stored": 10}
        assert server.engine.counters.write_failed == 0
        assert not (await server.engine.health()).write_failing
    finally:
        await admin.close()
        await server.stop()
