"""``sidelog_client.integrations.sqlalchemy`` with the real SQLAlchemy on SQLite files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from sidelog.engine import Engine
from sidelog_client.integrations import sqlalchemy as sidelog_sqlalchemy
from sidelog_client.integrations.sqlalchemy import statement_shape
from tests.client.conftest import MakeLogger
from tests.client.http_app import broken_logger, logged
from tests.conftest import tcp_port

SECRET_VALUES = ("ada@secret-mail.test", "Ada-Param-Value", "bob@secret-mail.test", "Renamed-Value")


def workload(db: sqlalchemy.Engine) -> list[Any]:
    """What the app does, and everything it sees: results, row counts, exceptions."""
    seen: list[Any] = []
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT)"))
        conn.execute(
            text("INSERT INTO users (email, name) VALUES (:email, :name)"),
            {"email": SECRET_VALUES[0], "name": SECRET_VALUES[1]},
        )
        conn.execute(
            text("INSERT INTO users (email, name) VALUES (:email, :name)"),
            [{"email": SECRET_VALUES[2], "name": "Bob"}, {"email": "c@x.test", "name": "Cy"}],
        )
        seen.append(
            conn.execute(text("SELECT id, email FROM users WHERE name = :name"), {"name": "Bob"}).all()
        )
        seen.append(
            conn.execute(
                text('UPDATE "users" SET name = :n WHERE id = :id'), {"n": SECRET_VALUES[3], "id": 1}
            ).rowcount
        )
    for statement, params in (
        ("INSERT INTO users (email, name) VALUES (:email, 'dup')", {"email": SECRET_VALUES[0]}),
        ("SELECT * FROM missing_table", {}),
    ):
        try:
            with db.begin() as conn:
                conn.execute(text(statement), params)
        except sqlalchemy.exc.DBAPIError as exc:
            seen.append((type(exc).__name__, type(exc.orig).__name__, str(exc)))
    return seen


async def test_statements_are_logged_without_parameters_and_results_are_unchanged(
    engine: Engine, make_logger: MakeLogger, tmp_path: Path
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    plain = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    traced = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'traced.db'}")
    state = sidelog_sqlalchemy.instrument(traced, logger=log, slow_ms=10_000)
    seen_plain = await asyncio.to_thread(workload, plain)
    seen_traced = await asyncio.to_thread(workload, traced)
    assert [str(item).replace("traced", "plain") for item in seen_traced] == [
        str(item) for item in seen_plain
    ]
    assert seen_traced[0] == [(2, SECRET_VALUES[2])]

    rows = await logged(log, engine, "category = 'db'")
    assert [(row["level"], row["message"]) for row in rows] == [
        ("debug", "CREATE users"),
        ("debug", "INSERT users"),
        ("debug", "INSERT users"),
        ("debug", "SELECT users"),
        ("debug", "UPDATE users"),
        ("error", "INSERT users failed: IntegrityError"),
        ("error", "SELECT missing_table failed: OperationalError"),
    ]
    create, insert, many, select, update, duplicate, missing = (row["details"] for row in rows)
    assert select["statement"] == "SELECT id, email FROM users WHERE name = ?"
    assert (select["kind"], select["table"], select["system"]) == ("SELECT", "users", "sqlite")
    assert select["duration_ms"] >= 0
    assert many["executemany"] is True
    assert update["rowcount"] == 1
    assert duplicate["error"] == {
        "type": "IntegrityError",
        "message": "UNIQUE constraint failed: users.email",
    }
    assert missing["error"]["message"] == "no such table: missing_table"
    for value in SECRET_VALUES:
        assert value not in str(rows)  # never a parameter
    assert (state.logged, state.failures) == (7, 0)

    state.remove()
    await asyncio.to_thread(workload, sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'again.db'}"))
    with traced.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert len(await logged(log, engine, "category = 'db'")) == 7


async def test_slow_and_failed_only_and_a_10_mb_statement_is_cut_with_a_marker(
    engine: Engine, make_logger: MakeLogger, tmp_path: Path
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    db = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'big.db'}")
    sidelog_sqlalchemy.instrument(db, logger=log, slow_ms=0, level=None, max_statement_chars=500)
    huge = "SELECT 1 AS one /* " + "x" * (10 * 1024 * 1024) + " */"

    def run() -> Any:
        with db.connect() as conn:
            return conn.execute(text(huge)).scalar()

    assert await asyncio.to_thread(run) == 1
    (row,) = await logged(log, engine, "category = 'db'")
    assert row["level"] == "warn"  # slow_ms=0: every statement is slow
    assert row["message"].startswith("SELECT (slow: ")
    statement = row["details"]["statement"]
    assert statement.startswith("SELECT 1 AS one /* xxx")
    assert statement.endswith(f"\n… [cut: {len(huge)} chars in all]")
    assert len(statement) < 600


async def test_an_async_engine_is_instrumented_through_its_sync_engine(
    engine: Engine, make_logger: MakeLogger, tmp_path: Path
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    db = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.db'}")
    sidelog_sqlalchemy.instrument(db, logger=log)
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT 41 + 1"))).scalar() == 42
    await db.dispose()
    (row,) = await logged(log, engine, "category = 'db'")
    assert (row["message"], row["details"]["statement"]) == ("SELECT", "SELECT 41 + 1")


async def test_a_hook_that_fails_inside_never_reaches_the_app(tmp_path: Path) -> None:
    plain = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    traced = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'traced.db'}")
    state = sidelog_sqlalchemy.instrument(traced, logger=broken_logger())
    seen_plain = await asyncio.to_thread(workload, plain)
    seen_traced = await asyncio.to_thread(workload, traced)
    assert [str(item).replace("traced", "plain") for item in seen_traced] == [
        str(item) for item in seen_plain
    ]
    assert state.failures == 7


@pytest.mark.parametrize(
    ("statement", "shape"),
    [
        ("  -- why\n/* hint */ select * from `orders` o join items", ("SELECT", "orders")),
        ("WITH t AS (SELECT 1) SELECT * FROM t", ("WITH", "t")),
        ("insert or replace into main.kv values (?, ?)", ("INSERT", "main.kv")),
        ("UPDATE OR IGNORE [accounts] SET x = 1", ("UPDATE", "accounts")),
        ("CREATE TABLE IF NOT EXISTS events (id)", ("CREATE", "events")),
        ("DELETE FROM sessions WHERE 1", ("DELETE", "sessions")),
        ("PRAGMA journal_mode", ("PRAGMA", None)),
        ("", ("SQL", None)),
    ],
)
def test_statement_kind_and_table(statement: str, shape: tuple[str, str | None]) -> None:
    assert statement_shape(statement) == shape
