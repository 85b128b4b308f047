"""The command line in real subprocesses: bad settings and flags, unusable database
paths, ``send``, and ``--help`` — one clear line, the right exit status, no traceback."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, clean_env, run

SERVE = ["serve", "--http", "off", "--db", "db/events.db"]


@pytest.mark.parametrize(
    ("args", "env", "needles"),
    [
        (["serve", "--http", "off"], {"SIDELOG_TCP": "nonsense"}, ["SIDELOG_TCP", "--tcp", "nonsense"]),
        ([*SERVE, "--tcp", "1.2.3.4:9"], {}, ["SIDELOG_TCP", "--allow-remote"]),
        ([*SERVE, "--tcp", "127.0.0.1:99999"], {}, ["SIDELOG_TCP", "0 to 65535"]),
        (["--tcp", "nonsense", "serve", "--http", "off"], {}, ["--tcp", "nonsense"]),
        (
            [*SERVE, "--tcp", "127.0.0.1:0"],
            {"LOG_LEVEL": "loud"},
            ["LOG_LEVEL", "'loud'", "debug, info, warn or error"],
        ),
        (
            [*SERVE, "--tcp", "127.0.0.1:0"],
            {"SIDELOG_RATE_LIMIT_BURST": "lots"},
            ["SIDELOG_RATE_LIMIT_BURST", "lots"],
        ),
        (
            [*SERVE, "--tcp", "127.0.0.1:0"],
            {"MAX_EVENTS_PER_BATCH": "0"},
            ["MAX_EVENTS_PER_BATCH", "from 1 to 100,000"],
        ),
        ([*SERVE, "--tcp", "127.0.0.1:0"], {"SIDELOG_STORE_LEVEL": "x"}, ["SIDELOG_STORE_LEVEL"]),
        ([*SERVE, "--bogus"], {}, ["unrecognized arguments: --bogus"]),
    ],
)
def test_bad_setting_or_flag(
    tmp_path: Path, args: list[str], env: dict[str, str], needles: list[str]
) -> None:
    assert_one_line_error(run(args, tmp_path, **env), 2, *needles)
    assert not (tmp_path / "db").exists()  # nothing was created


def test_bad_setting_through_the_console_script(tmp_path: Path) -> None:
    result = run(["serve", "--http", "off"], tmp_path, console_script=True, SIDELOG_TCP="nonsense")
    assert_one_line_error(result, 2, "SIDELOG_TCP")


def test_bad_setting_in_dotenv_local(tmp_path: Path) -> None:
    (tmp_path / ".env.local").write_text("LOG_LEVEL=shouty\n")
    assert_one_line_error(run([*SERVE, "--tcp", "127.0.0.1:0"], tmp_path), 2, "LOG_LEVEL", "shouty")


def test_database_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("not a folder")
    result = run(
        ["serve", "--http", "off", "--tcp", "127.0.0.1:0", "--db", "plain-file/sub/events.db"], tmp_path
    )
    assert_one_line_error(result, 1, "cannot create the database folder", "plain-file/sub")


def test_database_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    result = run(["serve", "--http", "off", "--tcp", "127.0.0.1:0", "--db", "adir"], tmp_path)
    assert_one_line_error(result, 1, "cannot open the database", "adir")


def test_database_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a database, just text\n" * 100)
    result = run(["serve", "--http", "off", "--tcp", "127.0.0.1:0", "--db", "junk.db"], tmp_path)
    assert_one_line_error(result, 1, "junk.db is not a SQLite database", "move it aside")


def test_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["serve", "--http", "off", "--tcp", f"127.0.0.1:{port}", "--db", "e.db"], tmp_path)
    assert_one_line_error(result, 1, f"cannot listen on tcp 127.0.0.1:{port}", "address already in use")


def test_send_to_nobody_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(["send", "hello", "--to", f"127.0.0.1:{port}"], tmp_path)
    assert_one_line_error(result, 1, "cannot connect", "is sidelog running?")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["send", "x", "--level", "loud"], "--level"),
        (["send", "x", "--details", "{nope"], "--details"),
        (["send", "   "], "MESSAGE"),
        (["send", "x", "--to", "nowhere"], "--to"),
    ],
)
def test_send_bad_arguments(tmp_path: Path, args: list[str], needle: str) -> None:
    assert_one_line_error(run(args, tmp_path), 1, needle)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--rate", "nan"], "invalid --rate"),
        (["demo", "--rate", "inf"], "invalid --rate"),
        (["demo", "--rate", "0"], "invalid --rate"),
        (["demo", "--duration", "nan"], "invalid --duration"),
        (["demo", "--duration", "-1"], "invalid --duration"),
    ],
)
def test_demo_bad_numbers_before_connecting(tmp_path: Path, args: list[str], needle: str) -> None:
    """Refused before any connection (none listens on the port given): no traceback."""
    assert_one_line_error(run([*args, "--to", "127.0.0.1:9"], tmp_path), 1, needle)


@pytest.mark.parametrize("cap", ["nan", "inf", "-1", "0", "1e30"])
def test_import_refuses_a_decompression_cap_that_is_not_one(tmp_path: Path, cap: str) -> None:
    (tmp_path / "a.log").write_text("one line\n")
    result = run(["import", "a.log", "--max-decompressed", cap, "--to", "127.0.0.1:9"], tmp_path)
    assert_one_line_error(result, 2, "--max-decompressed must be a number of MB above 0")


@pytest.mark.parametrize("command", [[], ["serve"], ["send"], ["demo"], ["prune"]])
def test_help(tmp_path: Path, command: list[str]) -> None:
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0
    assert "usage: sidelog" in result.stdout


async def test_send_and_prune_against_a_real_server(tmp_path: Path) -> None:
    import asyncio

    from sidelog.config import load_settings
    from sidelog.server import start_server
    from tests.conftest import tcp_port

    settings = load_settings(db=tmp_path / "live" / "events.db", tcp="127.0.0.1:0", http="off")
    engine = (await start_server(settings)).engine
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sidelog",
            "send",
            "card declined",
            "--level",
            "ERR",
            "--category",
            "Payment",
            "--details",
            '{"orderId": 7}',
            "--user",
            "u9",
            "--to",
            f"127.0.0.1:{tcp_port(engine)}",
            cwd=tmp_path,
            env=clean_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err
        assert out.decode().strip() == f"stored 1 event at 127.0.0.1:{tcp_port(engine)}"
        with sqlite3.connect(settings.db) as db:
            row = db.execute(
                "SELECT message, level, category, details, user_id FROM events WHERE source = 'server'"
            ).fetchone()
        assert row == ("card declined", "error", "payment", '{"orderId":7}', "u9")
    finally:
        await engine.stop()
    result = run(["prune", "--db", str(settings.db)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pruned: 0 events deleted, 0 errors archived")


async def test_demo_sends_the_mix_and_everything_is_stored(tmp_path: Path) -> None:
    import asyncio
    import re

    from sidelog.config import load_settings
    from sidelog.server import start_server
    from tests.conftest import tcp_port

    settings = load_settings(db=tmp_path / "demo" / "events.db", tcp="127.0.0.1:0", http="off")
    engine = (await start_server(settings)).engine
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sidelog", "demo", "--rate", "400", "--duration", "0.5",
            "--to", f"127.0.0.1:{tcp_port(engine)}",
            cwd=tmp_path, env=clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err
        match = re.search(r"sent (\d+) events, (\d+) stored", err.decode())
        assert match, err
        sent, stored = int(match.group(1)), int(match.group(2))
        assert sent == stored >= 150
        with sqlite3.connect(settings.db) as db:
            (count,) = db.execute("SELECT count(*) FROM events").fetchone()
            categories = {row[0] for row in db.execute("SELECT DISTINCT category FROM events")}
        assert count == stored + 1  # plus "sidelog started"
        assert len(categories) >= 4
        assert engine.counters.rejected == 0
    finally:
        await engine.stop()
