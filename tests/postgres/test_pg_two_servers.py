"""Two real ``sidelog serve`` processes on one PostgreSQL database, sending at the same time.

Scaled down from the figure of ``python -m sidelog.bench.pg_servers`` (100,000 events
per server, run by hand): every id stored exactly once, resends through the other
server dropped, and each error group's count equal to its stored errors.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sidelog.bench.pg_servers import run_servers
from tests.support.postgres import PostgresCluster


async def test_two_servers_store_every_event_once_and_count_groups_exactly(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await pg_cluster.create_database()
    result = await asyncio.to_thread(run_servers, url, tmp_path, events=2_000, sync_every=200)
    assert result.sent == 4_000
    assert (result.stored, result.distinct) == (4_000, 4_000)
    assert result.expected_groups == {
        f"boom {name}": 80 for name in ("alpha", "bravo", "charlie", "delta", "echo")
    }
    assert result.group_counts == result.expected_groups == result.stored_errors
    assert result.exact


async def test_killing_one_server_mid_stream_loses_no_acknowledged_event(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await pg_cluster.create_database()
    result = await asyncio.to_thread(run_servers, url, tmp_path, events=2_000, sync_every=100, kill_after=600)
    assert result.killed
    assert result.lost_acknowledged == 0
    assert result.stored == result.distinct
    assert result.stored >= 2_000 + 600  # the other server's all, the killed one's acknowledged
    assert result.group_counts == result.stored_errors
    assert result.exact
