"""``sidelog run`` and ``sidelog import`` as a user runs them: real subprocesses, a real engine."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sidelog.engine import Engine
from tests.conftest import tcp_port
from tests.sources.support import HANDLES_SIGNALS, MIXED, PRINTS_ENV, rows, script
from tests.support.wait import until

SIDELOG = [sys.executable, "-m", "sidelog"]


async def sidelog(*args: str, stdin: bytes | None = None, timeout: float = 60) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *SIDELOG,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return process.returncode, out, err


def events(engine: Engine, where: str = "1") -> list[tuple[str, str, str, str]]:
    return rows(
        engine.settings.db,
        "SELECT level, category, source, message FROM events "
        f"WHERE category != 'system' AND {where} ORDER BY id",
    )


async def test_run_headless_echoes_stores_and_exits_with_the_childs_status(
    engine: Engine, tmp_path: Path
) -> None:
    argv = script(tmp_path, "mixed.py", MIXED)
    status, out, err = await sidelog(
        "run", "--to", f"127.0.0.1:{tcp_port(engine)}", "--headless", "--", *argv
    )
    assert status == 3, err
    # Echoed byte for byte, colour codes included.
    assert out.splitlines()[2] == b"\x1b[32mINFO\x1b[0m \x1b[1mcoloured\x1b[0m text"
    assert b"ValueError: boom" in err
    assert b"Traceback" in err
    assert err.splitlines()[-1].startswith(b"sidelog: ")
    assert b"exit status 3" in err.splitlines()[-1]
    name = os.path.basename(argv[0]).lower()
    stored = events(engine)
    pid = stored[0][3].split("pid ")[1].rstrip(")")
    assert stored[0] == ("info", name, "system", f"{name} started (pid {pid})")
    assert stored[-1] == ("error", name, "system", f"{name} exited with status 3")
    # stdout and stderr are read side by side: each keeps its order, not their interleaving.
    assert sorted(stored[1:-1]) == sorted(
        [
            ("debug", "api", "run", "json on stdout"),
            ("error", name, "run", "logfmt failure"),
            ("info", name, "run", "INFO coloured text"),
            ("info", name, "run", "plain stdout line"),
            ("warn", name, "run", "json on stderr"),
            ("warn", name, "run", "a plain stderr line"),
            ("error", name, "run", "ValueError: boom"),  # the traceback's three lines, one event
        ]
    )
    (stack,) = rows(engine.settings.db, "SELECT details FROM events WHERE message = 'ValueError: boom'")
    assert '"type":"ValueError"' in stack[0]


async def test_run_sets_the_childs_environment(engine: Engine, tmp_path: Path) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    argv = script(tmp_path, "env.py", PRINTS_ENV)
    status, out, _ = await sidelog(
        "run", "--name", "env", "--to", address, "--http", "127.0.0.1:9", "--", *argv
    )
    assert status == 0
    assert out.decode().splitlines()[:3] == [
        f"env SIDELOG_ADDRESS={address}",
        "env SENTRY_SPOTLIGHT=http://127.0.0.1:9/stream",
        "env OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
    ]
    assert [row[1] for row in events(engine)] == ["env"] * 6


async def test_sigterm_to_run_reaches_the_child(engine: Engine, tmp_path: Path) -> None:
    argv = script(tmp_path, "handles.py", HANDLES_SIGNALS)
    process = await asyncio.create_subprocess_exec(
        *SIDELOG,
        "run",
        "--name",
        "svc",
        "--to",
        f"127.0.0.1:{tcp_port(engine)}",
        "--",
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    ready = await asyncio.wait_for(process.stdout.readline(), 30)
    assert ready.startswith(b"ready ")
    await until(lambda: len(events(engine, "source = 'run'")) == 1, message="ready line stored")
    process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 42, err
    assert out == f"got signal {int(signal.SIGTERM)}\n".encode()
    assert events(engine)[-2:] == [
        ("info", "svc", "run", f"got signal {int(signal.SIGTERM)}"),
        ("info", "svc", "system", "svc exited with status 42"),  # stopped by us: not an error
    ]


async def test_run_errors_are_one_line_with_a_shell_status(engine: Engine) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    status, _, err = await sidelog("run", "--to", address, "--", "no-such-command-xyz")
    assert (status, err) == (127, b"sidelog: no-such-command-xyz: command not found\n")
    status, _, err = await sidelog("run", "--to", address)
    assert status == 2
    assert err.startswith(b"sidelog run: error: no command given")
    assert err.count(b"\n") == 1
    status, _, err = await sidelog("run", "--tcp", "off", "--http", "off", "--headless", "--", "true")
    assert status == 1
    assert (
        err == b"sidelog: sidelog run needs its TCP or Unix endpoint: do not set --tcp off without --unix\n"
    )
    status, _, err = await sidelog("run", "--to", "127.0.0.1:1", "--", "true")
    assert status == 1
    assert b"cannot connect to 127.0.0.1:1" in err
    assert err.count(b"\n") == 1


async def test_import_stores_each_line_once_from_files_and_stdin(engine: Engine, tmp_path: Path) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    log = tmp_path / "worker.log"
    log.write_bytes(b'job 1 done\nERROR job 2 failed\n\n{"message": "json job"}\n')
    status, _, err = await sidelog("import", str(log), "--to", address)
    assert status == 0, err
    assert err.startswith(b"imported ")
    assert b": 4 lines \xc2\xb7 3 events sent, stored 3 \xc2\xb7 json 1, text 2" in err
    status, _, err = await sidelog("import", str(log), "--to", address)
    assert status == 0, err
    assert b"3 events sent, stored 3 (3 were already there: nothing added for those) \xc2\xb7" in err
    status, _, err = await sidelog("import", "--to", address, stdin=log.read_bytes())
    assert status == 0
    assert err.startswith(b"imported stdin: ")
    assert events(engine) == [
        ("info", "worker", "import", "job 1 done"),
        ("error", "worker", "import", "ERROR job 2 failed"),
        ("info", "worker", "import", "json job"),
    ]
    status, _, err = await sidelog("import", str(tmp_path / "missing.log"), "--to", address)
    assert status == 1
    assert b"missing.log: no such file" in err


async def test_import_refuses_a_database_file_and_stores_nothing_from_it(
    engine: Engine, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    status, _, err = await sidelog("import", str(engine.settings.db), "--to", address)
    assert status == 1
    assert err == f"sidelog: {engine.settings.db}: is a SQLite database, not a log file".encode() + (
        b" (read it with sidelog export --db)\n"
    )
    rotated = tmp_path / "rotated.log"  # logrotate copytruncate leaves a hole of NULs at the start
    rotated.write_bytes(b"\x00" * 100 + b"after the hole\n")
    status, _, err = await sidelog("import", str(rotated), "--to", address)
    assert status == 0, err
    assert [row[3] for row in events(engine)] == ["after the hole"]  # the only event stored


async def test_import_of_a_missing_file_says_so_before_connecting(tmp_path: Path) -> None:
    status, _, err = await sidelog("import", str(tmp_path / "missing.log"), "--to", "127.0.0.1:1")
    assert (status, err) == (1, f"sidelog: {tmp_path / 'missing.log'}: no such file\n".encode())
    status, _, err = await sidelog("import", str(tmp_path), "--to", "127.0.0.1:1")
    assert (status, err) == (1, f"sidelog: {tmp_path}: is a directory\n".encode())


async def test_run_without_to_reports_to_the_sidelog_already_open_on_its_database(engine: Engine) -> None:
    # The second terminal: `sidelog` is open on this database, and the user types `sidelog run`.
    await until(
        lambda: bool(rows(engine.settings.db, "SELECT 1 FROM events WHERE message = 'sidelog started'"))
    )
    status, out, err = await sidelog(
        "run",
        "--db",
        str(engine.settings.db),
        "--name",
        "web",
        "--",
        sys.executable,
        "-c",
        "print('ready on :3000')",
    )
    assert status == 0, err
    assert out == b"ready on :3000\n"  # echoed, as with --to
    said = f"sidelog: {engine.settings.db} is open in a running sidelog: sending to it at 127.0.0.1:"
    assert err.startswith(f"{said}{tcp_port(engine)}\n".encode())
    assert events(engine, "source = 'run'") == [("info", "web", "run", "ready on :3000")]
