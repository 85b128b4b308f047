"""``sidelog vacuum`` and ``sidelog recover`` as real processes on a real store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sidelog.config import Settings
from sidelog.server import start_server
from tests.conftest import send_lines, tcp_port


def sidelog(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidelog", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


async def filled_store(make_settings: Callable[..., Settings]) -> Path:
    engine = (await start_server(make_settings())).engine
    try:
        payload = b"".join(
            b'{"message": "event %d", "details": {"pad": "%s"}}\n' % (i, b"x" * 500) for i in range(2000)
        )
        assert (await send_lines(tcp_port(engine), payload))[-1]["stored"] == 2000
    finally:
        await engine.stop()
    return engine.settings.db


async def test_vacuum_compacts_and_keeps_every_row(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    db = await filled_store(make_settings)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM events WHERE id % 2 = 0")
    before = db.stat().st_size
    result = sidelog("vacuum", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"vacuumed {db}:")
    assert db.stat().st_size < before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE message LIKE 'event %'").fetchone()[0] == 1000


async def test_recover_keeps_the_original_aside(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    db = await filled_store(make_settings)
    original = db.read_bytes()
    result = sidelog("recover", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "recovered" in result.stdout
    assert "damaged file is kept as" in result.stdout
    kept = [path for path in db.parent.iterdir() if ".damaged-" in path.name]
    assert len(kept) == 1
    assert kept[0].read_bytes() == original
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE message LIKE 'event %'").fetchone()[0] == 2000


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    result = sidelog("vacuum", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"sidelog: no database at {tmp_path / 'none.db'} (use --db or SIDELOG_DB)\n"
    pruned = sidelog("prune", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert pruned.returncode == 1
    assert pruned.stderr == f"sidelog: no database at {tmp_path / 'none.db'} (use --db or SIDELOG_DB)\n"
    assert not (tmp_path / "none.db").exists()  # nothing was created to be pruned


async def test_db_given_before_the_command_is_the_one_used(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """``sidelog --db X export`` reads X, not the default ``.sidelog/events.db`` (the
    sub-command's own ``--db`` must not reset the one given before it)."""
    db = await filled_store(make_settings)
    work = tmp_path / "elsewhere"
    work.mkdir()
    exported = sidelog("--db", str(db), "export", cwd=work)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.strip().startswith("exported ")
    assert "event 1999" in exported.stdout
    pruned = sidelog("--db", str(db), "prune", cwd=work)
    assert pruned.returncode == 0, pruned.stderr
    vacuumed = sidelog("--db", str(db), "vacuum", cwd=work)
    assert vacuumed.returncode == 0, vacuumed.stderr
    assert vacuumed.stdout.startswith(f"vacuumed {db}: ")
    assert not (work / ".sidelog").exists()


def test_a_folder_as_database_is_one_line(tmp_path: Path) -> None:
    for value in ("/", ".", str(tmp_path) + "/.."):
        result = sidelog("--db", value, "serve", cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr == (
            f"sidelog: invalid setting SIDELOG_DB (--db): {value!r} names a folder, not a database file: "
            "use e.g. .sidelog/events.db\n"
        )
