"""Bad ``--db`` values and an unusable PostgreSQL: one line on stderr, a non-zero exit, no file made.

A value shaped like a URL is never taken as a file name; a wrong password, a server
that is not there and a role without the right to create tables stop ``serve`` before
it binds anything.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import asyncpg
import pytest

from sidelog.config import SettingsError, load_settings
from sidelog.store.location import SUPPORTED_FORMS, parse_location
from tests.support.cli import assert_one_line_error, run
from tests.support.postgres import PostgresCluster, free_port


@pytest.mark.parametrize(
    "value",
    [
        "mysql://root@localhost/events",
        "postgres:/events",
        "postgresql:events",
        "sqlite:///tmp/events.db",
        "http://example.com/db",
        "postgresql://localhost:70000/events",
        "postgresql://localhost:port/events",
        "postgresql://localhost/",
        "postgresql://localhost/a/b",
    ],
)
def test_an_unsupported_or_mistyped_url_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(db=value)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("invalid setting SIDELOG_DB (--db): ")
    assert message.endswith(SUPPORTED_FORMS)


@pytest.mark.parametrize(
    ("value", "database", "port"),
    [
        ("postgresql://ann:s3cret@db.local:5433/events", "events", 5433),
        ("postgres://ann@db.local/events", "events", None),
        ("postgresql+asyncpg://ann@[::1]:5432/ev?ssl=require", "ev", 5432),
    ],
)
def test_postgres_urls_select_postgres_and_keep_the_path_setting_usable(
    value: str, database: str, port: int | None
) -> None:
    settings = load_settings(db=value)
    store = settings.store
    assert store.is_postgres
    assert store.url is not None
    assert store.path is None
    assert (store.url.drivername, store.url.database, store.url.port) == (
        "postgresql+asyncpg",
        database,
        port,
    )
    assert "s3cret" not in store.display()
    assert settings.db.parent == Path(".sidelog")


@pytest.mark.parametrize("value", ["events.db", "./with:colon.db", "/tmp/x/events.db", "C:/x.db"])
def test_file_paths_still_select_sqlite(value: str) -> None:
    settings = load_settings(db=value)
    assert not settings.store.is_postgres
    assert settings.store.path == settings.db == Path(value)
    assert parse_location(Path(value)).path == Path(value)


def test_serve_refuses_a_bad_url_without_creating_a_file(tmp_path: Path) -> None:
    result = run(["serve", "--db", "postgres:/events", "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path)
    assert_one_line_error(result, 2, "postgres:/events", "postgresql://USER")
    assert list(tmp_path.iterdir()) == []
    result = run(["serve", "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path, SIDELOG_DB="mysql://u:pw@h/db")
    assert_one_line_error(result, 2, "mysql://u:***@h/db")
    assert "pw@" not in result.stderr


def test_a_wrong_password_is_one_line_and_a_failed_start(pg_cluster: PostgresCluster, tmp_path: Path) -> None:
    url = pg_cluster.url("postgres", password="wrong")
    result = run(["serve", "--db", url, "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path)
    assert_one_line_error(result, 1, "password authentication failed", "sidelog:***@127.0.0.1")
    assert "wrong" not in result.stderr


def test_a_server_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/events"
    result = run(["serve", "--db", url, "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path)
    assert_one_line_error(result, 1, "cannot open the database postgresql://nobody@127.0.0.1")


async def test_a_role_that_may_not_create_tables_is_one_line(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await pg_cluster.create_database()
    role = f"viewer_{secrets.token_hex(4)}"  # roles belong to the whole cluster
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'viewer'")
        await admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await admin.close()
    limited = url.replace(f"sidelog:{pg_cluster.password}@", f"{role}:viewer@")
    result = run(["serve", "--db", limited, "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path)
    assert_one_line_error(result, 1, "permission denied for schema public")


async def test_prune_runs_on_postgres_and_file_only_commands_say_so(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = await pg_cluster.create_database()
    result = run(["prune", "--db", url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pruned: 0 events deleted")
    for command in ("vacuum", "recover"):
        result = run([command, "--db", url], tmp_path)
        assert_one_line_error(result, 1, f"sidelog {command} works on a SQLite file")
        assert pg_cluster.password not in result.stderr
