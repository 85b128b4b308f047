"""One sidelog server per database file, however the path is spelled: a symlink, a
``..`` path or a hard link to the same file is refused like the same path."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sidelog.config import Settings, load_settings
from sidelog.engine import Engine
from sidelog.store.database import StoreError


def other_spellings(db: Path) -> dict[str, Path]:
    """Three other paths to ``db``'s file."""
    (db.parent / "sub").mkdir()
    link = db.parent / "link.db"
    link.symlink_to(db)
    hard = db.parent / "hard.db"
    os.link(db, hard)
    return {"symlink": link, "dotdot": db.parent / "sub" / ".." / db.name, "hard link": hard}


async def test_another_spelling_of_the_same_file_is_refused(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    first = Engine(settings)
    await first.open_store()
    try:
        for how, path in other_spellings(settings.db).items():
            second = Engine(load_settings(db=path, tcp="off", http="off"))
            with pytest.raises(StoreError) as raised:
                await second.open_store()
            await second.stop()
            assert "is in use by another sidelog (pid" in str(raised.value), how
            assert "\n" not in str(raised.value)
    finally:
        await first.stop()
    # released on stop: any spelling opens now
    again = Engine(load_settings(db=settings.db.parent / "link.db", tcp="off", http="off"))
    await again.open_store()
    await again.stop()


def test_a_second_serve_through_a_symlink_exits_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "data" / "events.db"
    link = tmp_path / "link.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIDELOG_", "ENABLE_", "BATCH_"))}
    serve = [sys.executable, "-m", "sidelog", "serve", "--tcp", "127.0.0.1:0", "--http", "off", "--db"]
    first = subprocess.Popen(
        [*serve, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith("listening "), first.stderr
        link.symlink_to(db)
        second = subprocess.run(
            [*serve, str(link)], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
        )
    finally:
        first.terminate()
        first.communicate(timeout=30)
    assert second.returncode != 0
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "is in use by another sidelog" in lines[0]
    assert first.returncode == 0


async def test_lock_files_are_private(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    engine = Engine(settings)
    await engine.open_store()
    try:
        lock = settings.db.with_name(settings.db.name + ".lock")
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert lock.read_text() == f"pid {os.getpid()}\n"
    finally:
        await engine.stop()
