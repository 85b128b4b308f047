"""A throwaway PostgreSQL server for the tests: one cluster per test process, a database per test.

The cluster lives in a temporary directory owned by an unprivileged user (PostgreSQL
refuses to run as root), listens on 127.0.0.1 on a free port with password
authentication (so a wrong password can be tested) and on a Unix socket inside the
directory, and skips fsync (a test cluster is never recovered). Under pytest-xdist each
worker starts its own: about 2 s, against per-test databases costing ~75 ms each.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "sidelog"
"""The cluster's superuser (the tests connect as it)."""


def server_programs() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest version installed), or ``None``."""
    override = os.environ.get("SIDELOG_PG_BIN")
    candidates = [override] if override else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that drops root to ``nobody`` (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "nobody", "--"]


@dataclass
class PostgresCluster:
    """A running test cluster; ``url(name)`` addresses one of its databases."""

    bin: Path
    folder: Path
    port: int
    password: str

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.folder / "data"

    def url(self, database: str, *, password: str | None = None) -> str:
        """A ``postgresql://`` URL for ``database`` (another ``password`` to test refusals)."""
        secret = self.password if password is None else password
        return f"postgresql://{USER}:{secret}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresCluster:
        """initdb a new cluster in a temporary directory and start it; raises on failure."""
        folder = Path(tempfile.mkdtemp(prefix="sidelog-pg-"))
        password = secrets.token_hex(8)
        cluster = cls(bin_dir, folder, free_port(), password)
        (folder / "password").write_text(password + "\n")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in (folder, folder / "password"):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        prefix = _as_server_user()
        cluster._run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={folder / 'password'}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        options = (
            f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        cluster._run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(cluster.data), "-l", str(folder / "log"), "-w"]
            + ["-o", options, "start"]
        )
        return cluster

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                [
                    *_as_server_user(),
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            self.stop()
            raise RuntimeError(f"{command[-1]} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")

    async def create_database(self, name: str | None = None) -> str:
        """Create a fresh database and return its URL (each test gets its own)."""
        import asyncpg

        name = name or f"t_{secrets.token_hex(6)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster started for this test process and removed after it (skipped, with
    the reason printed, only where the server programs are not installed)."""
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
