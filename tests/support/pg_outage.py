"""Take the test PostgreSQL server away and bring it back, as a crash and a restart would.

``crash`` is ``pg_ctl stop -m immediate`` (every connection cut, no shutdown checkpoint);
``restart`` starts the same cluster with the options it ran with (read back from
``postmaster.opts``), on the same port, and waits until it accepts connections.
Used by the outage tests on the process's shared cluster, which they always restart.
"""

from __future__ import annotations

import shlex
import subprocess

from tests.support.postgres import PostgresCluster, _as_server_user


def _pg_ctl(cluster: PostgresCluster, *args: str) -> None:
    done = subprocess.run(
        [*_as_server_user(), str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stderr.strip()}")


async def durable_database(cluster: PostgresCluster) -> str:
    """A new database whose commits survive a crash: the test cluster runs with
    ``synchronous_commit=off`` (fast, and loses the last commits in a crash), so this
    database sets it back on, as a production server has it."""
    import asyncpg

    url = await cluster.create_database()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET synchronous_commit = on')
    finally:
        await conn.close()
    return url


def crash(cluster: PostgresCluster) -> None:
    """Stop the server at once, cutting every connection (``-m immediate``)."""
    options = (cluster.data / "postmaster.opts").read_text()
    (cluster.folder / "options").write_text(options)
    _pg_ctl(cluster, "-m", "immediate", "-w", "stop")


def restart(cluster: PostgresCluster) -> None:
    """Start the crashed server again with its former options; returns once it accepts connections."""
    words = shlex.split((cluster.folder / "options").read_text())[1:]
    options: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "-D":
            skip = True
            continue
        options.append(shlex.quote(word))
    _pg_ctl(cluster, "-l", str(cluster.folder / "log"), "-w", "-o", " ".join(options), "start")
