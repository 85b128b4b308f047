"""Store files are private: the database, its -wal and -shm, and the lock, 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.events import Event
from sidelog.pipeline.queue import Origin
from tests.store.support import new_store


def mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_store_files_are_created_0600(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    db = settings.db
    old_umask = os.umask(0o022)  # the usual default, which gave 0644 before
    try:
        engine = Engine(settings)
        await engine.open_store()
        try:
            origin = Origin("test")
            engine.admit([Event(message="private")], origin)
            await engine.wait_committed(origin)
            files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
            files.append(db.with_name(db.name + ".lock"))
            assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
        finally:
            await engine.stop()
    finally:
        os.umask(old_umask)


async def test_an_existing_0644_store_is_tightened(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    await new_store(settings.db)
    settings.db.chmod(0o644)
    engine = Engine(settings)
    await engine.open_store()
    await engine.stop()
    assert mode(settings.db) == 0o600
