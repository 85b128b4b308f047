"""``sidelog tail`` as a real process against a real server."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from typing import Any

import orjson

from sidelog.engine import Engine
from tests.integration.http_support import http_base
from tests.support.wait import until

pytest_plugins = ["tests.integration.http_fixtures"]

HOSTILE = "pwn \x1b]0;owned\x07 \x1b[2J \x9b31m \u202eevil\u202c \x00end"


async def spawn_tail(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidelog",
        "tail",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def connected(engine: Engine, before: int, process: asyncio.subprocess.Process) -> None:
    await until(
        lambda: engine.clients > before or process.returncode is not None, 15, message="tail connected"
    )
    assert process.returncode is None, (await process.stderr.read()).decode() if process.stderr else ""


async def ingest(client: Any, engine: Engine, events: list[dict[str, Any]]) -> None:
    async with client.post(f"{http_base(engine)}/v1/events?wait=true", data=orjson.dumps(events)) as r:
        assert r.status == 200


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 10)


async def test_plain_lines_are_filtered_and_sanitised(http_engine: Engine, client: Any) -> None:
    before = http_engine.clients
    process = await spawn_tail("--to", http_base(http_engine).removeprefix("http://"), "--level", "error")
    try:
        await connected(http_engine, before, process)
        await ingest(
            client,
            http_engine,
            [
                {"message": "quiet", "category": "ui"},
                {
                    "message": HOSTILE.replace("\x00", ""),
                    "type": "error",
                    "category": "payment",
                    "userId": "u1",
                },
            ],
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
    finally:
        await stop(process)
    text = line.decode()
    assert "ERROR" in text
    assert "payment" in text
    assert "u1" in text
    assert "quiet" not in text
    for forbidden in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert forbidden not in text
    assert "␛]0;owned␇" in text
    assert "⟨U+202E⟩evil" in text


async def test_json_lines_round_trip_and_are_inert(http_engine: Engine, client: Any) -> None:
    before = http_engine.clients
    process = await spawn_tail(
        "--to", http_base(http_engine).removeprefix("http://"), "--json", "--category", "x"
    )
    try:
        await connected(http_engine, before, process)
        message = HOSTILE.replace("\x00", "")
        await ingest(client, http_engine, [{"message": message, "category": "x", "details": {"k": "\x9b"}}])
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
    finally:
        await stop(process)
    event = json.loads(line)
    assert event["message"] == message
    assert event["details"] == {"k": "\x9b"}
    assert not any(ch in line.decode() for ch in ("\x1b", "\x07", "\x9b", "\u202e"))


async def test_connection_refused_is_one_line_and_exit_1() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await spawn_tail("--to", f"127.0.0.1:{port}")
    out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 1
    assert out == b""
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"sidelog: cannot connect to 127.0.0.1:{port}")


async def test_bad_filter_is_one_line() -> None:
    process = await spawn_tail("--level", "loud")
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 1
    assert err.decode().strip().splitlines() == [
        "sidelog: invalid filter: level 'loud' is not a level (use debug, info, warn or error)"
    ]


async def test_a_lagging_tail_reconnects_and_loses_nothing(make_settings: Any, client: Any) -> None:
    from sidelog.ingest.http import HttpOptions
    from sidelog.ingest.http_stream import StreamOptions
    from tests.integration.http_support import start

    options = HttpOptions(stream=StreamOptions(heartbeat_s=5, write_timeout_s=30, buffer_bytes=32 * 1024))
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False), options)
    try:
        process = await spawn_tail(
            "--to", http_base(engine).removeprefix("http://"), "--json", "--category", "bulk"
        )
        await connected(engine, 0, process)
        padding = "z" * 8000
        # tail's stdout is a pipe nobody reads yet: it stalls, the server's buffer overflows.
        for round_ in range(30):
            await ingest(
                client,
                engine,
                [{"message": f"{round_}.{i}", "category": "bulk", "details": padding} for i in range(50)],
            )
        assert process.stdout is not None
        messages: list[str] = []
        async with asyncio.timeout(30):
            while len(messages) < 1500:
                messages.append(json.loads(await process.stdout.readline())["message"])
        await stop(process)
    finally:
        await engine.stop()
    assert sorted(messages) == sorted(f"{r}.{i}" for r in range(30) for i in range(50))
