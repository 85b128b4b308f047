"""Fixtures for the PostgreSQL store: one real server per test process, a database per test.

Skipped, with the reason printed, only where the PostgreSQL server programs are not
installed (tests/support/postgres.py says where it looks).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresCluster, server_programs


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster started for this test process and removed after it."""
    programs = server_programs()
    if programs is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin")
    cluster = PostgresCluster.start(programs)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def pg_url(pg_cluster: PostgresCluster) -> str:
    """The URL of a new, empty database on the test cluster (one per test)."""
    return await pg_cluster.create_database()
