"""``sidelog bench --db postgresql://…`` at a tiny size against the test cluster.

The real command in a subprocess: it makes its own databases beside the one named, runs
one and then two ``sidelog serve`` processes on each, checks every event stored once,
and drops what it made. Figures are printed, never asserted; what is checked is that
each run is reported, exact and cleaned up.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from sidelog.bench.pg_retention import run_retention_bench
from tests.support.cli import assert_one_line_error, run
from tests.support.postgres import PostgresCluster


async def databases(cluster: PostgresCluster) -> set[str]:
    conn = await asyncpg.connect(cluster.url("postgres"))
    try:
        return {row[0] for row in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def test_bench_reports_ingest_for_one_and_two_servers(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    before = await databases(pg_cluster)
    result = run(
        ["bench", "--db", pg_cluster.url("postgres"), "--only", "pg-ingest", "--events", "400", "--json"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["sections"] == ["pg-ingest"]
    ingest = figures["pg_ingest"]
    assert (ingest["1_server"]["events"], ingest["2_server"]["events"]) == (400, 400)
    assert ingest["1_server"]["exact"]
    assert ingest["2_server"]["exact"]
    assert ingest["2_server"]["resent_ids"] == 20
    assert ingest["1_server"]["events_per_s"] > 0
    assert await databases(pg_cluster) == before  # its scratch databases are gone


def test_bench_refuses_a_file_or_an_unknown_section_in_one_line(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    assert_one_line_error(run(["bench", "--db", str(tmp_path / "x.db")], tmp_path), 2, "postgresql://")
    unknown = run(["bench", "--db", pg_cluster.url("postgres"), "--only", "ingest"], tmp_path)
    assert_one_line_error(unknown, 2, "pg-ingest")


async def test_the_retention_bench_drops_nine_days_while_a_client_syncs(pg_cluster: PostgresCluster) -> None:
    before = await databases(pg_cluster)
    figures = await run_retention_bench(pg_cluster.url("postgres"), events=2_000, quiet=0.3)
    assert (figures["deleted"], figures["archived"], figures["dropped_days"]) == (1_800, 180, 9)
    assert figures["skipped_days"] == 0
    assert figures["syncs"] > 0
    assert figures["writer_seconds"] <= figures["writer_turns_seconds"]
    assert await databases(pg_cluster) == before
