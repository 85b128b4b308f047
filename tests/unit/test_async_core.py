"""``sidelog.store.async_core``: SQLAlchemy's asyncio engine without the ORM, and the
whole package still there for whoever asks for more.

Each probe runs in a fresh interpreter: the test process has imported the package
the usual way long before (the PostgreSQL fixtures, the SDK tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ENGINE_ONLY = """
import asyncio, json, sys
from sidelog.store.async_core import AsyncEngine, create_async_engine

async def main():
    engine = create_async_engine("sqlite+aiosqlite:///" + sys.argv[1])
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE t (x)")
        await conn.exec_driver_sql("INSERT INTO t VALUES (41), (1)")
    async with engine.connect() as conn:
        total = (await conn.exec_driver_sql("SELECT sum(x) FROM t")).scalar()
    await engine.dispose()
    return total

total = asyncio.run(main())
orm_before = "sqlalchemy.orm" in sys.modules
from sqlalchemy.ext.asyncio import AsyncEngine as PackageEngine, AsyncSession
print(json.dumps({
    "total": total,
    "orm_before": orm_before,
    "orm_after": "sqlalchemy.orm" in sys.modules,
    "same_class": PackageEngine is AsyncEngine,
    "session": AsyncSession.__name__,
}))
"""

PACKAGE_FIRST = """
import json
import sqlalchemy.ext.asyncio as package
from sidelog.store.async_core import AsyncConnection, AsyncEngine
print(json.dumps({
    "same_engine": package.AsyncEngine is AsyncEngine,
    "same_connection": package.AsyncConnection is AsyncConnection,
    "session": hasattr(package, "AsyncSession"),
}))
"""

SERVER_RUN = """
import asyncio, json, sys
from pathlib import Path
from sidelog.config import load_settings
from sidelog.server import start_server

async def main():
    settings = load_settings(db=Path(sys.argv[1]), tcp="127.0.0.1:0", http="127.0.0.1:0")
    running = await start_server(settings)
    kinds = sorted(kind for kind, _ in running.endpoints)
    await running.stop()
    return kinds

kinds = asyncio.run(main())
orm = sorted(m for m in sys.modules if m.startswith("sqlalchemy.orm"))
print(json.dumps({"endpoints": kinds, "orm": orm}))
"""


def _probe(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_engine_runs_without_the_orm_and_the_package_is_whole_when_asked(tmp_path: Path) -> None:
    result = _probe(ENGINE_ONLY, str(tmp_path / "probe.db"))
    assert result["total"] == 42
    assert result["orm_before"] is False  # the engine alone: no ORM in the process
    assert result["orm_after"] is True  # ``AsyncSession`` asked for: the real __init__ ran
    assert result["same_class"] is True  # one set of classes, whichever way they were reached
    assert result["session"] == "AsyncSession"


def test_a_package_imported_first_is_used_as_it_is() -> None:
    result = _probe(PACKAGE_FIRST)
    assert result == {"same_engine": True, "same_connection": True, "session": True}


def test_a_server_on_a_sqlite_store_never_loads_the_orm(tmp_path: Path) -> None:
    result = _probe(SERVER_RUN, str(tmp_path / "events.db"))
    assert result == {"endpoints": ["http", "tcp"], "orm": []}
