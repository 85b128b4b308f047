"""``TcpSink`` and ``line_to_event`` end to end against a real engine on port 0."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from sidelog.commands.import_file import import_files
from sidelog.config import Settings
from sidelog.engine import Engine
from sidelog.server import start_server
from sidelog.sources.progress import Progress
from sidelog.sources.sink import SinkError, SourceLine, line_to_event
from sidelog.sources.tcp_sink import TcpSink
from tests.conftest import tcp_port
from tests.sources.support import count, rows
from tests.support.wait import until


def event(line: str, stream: str = "stdout", key: str | None = None) -> dict[str, object]:
    converted = line_to_event(line, stream=stream, name="web", key=key)
    assert converted is not None
    return dict(orjson.loads(converted.wire))


def test_plain_text_becomes_an_event_with_a_default_level_by_stream() -> None:
    assert event("server listening on :3000") == {
        "message": "server listening on :3000",
        "type": "info",
        "details": {"dialect": "text"},
        "category": "web",
        "source": "run",
    }
    assert event("compiling the bundle", stream="stderr")["type"] == "warn"
    assert event("plain", key="imp1-abc")["id"] == "imp1-abc"


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("INFO:     Uvicorn running on http://127.0.0.1:8000", "info"),
        ("2024-05-01 12:00:00,123 ERROR app: payment failed", "error"),
        ("[12:00:01] WARN slow query", "warn"),
        ("time=2024-05-01T12:00:00Z level=debug msg=tick", "debug"),
        ("\x1b[31mFATAL\x1b[0m out of memory", "error"),
        ("Traceback (most recent call last):", "error"),
    ],
)
def test_a_level_the_text_states_wins_over_the_streams_default(line: str, level: str) -> None:
    assert event(line, stream="stderr")["type"] == level


def test_a_joined_stack_trace_is_one_event_with_its_exception() -> None:
    block = 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nValueError: boom'
    joined = event(block, stream="stderr", key="imp1-last")
    assert joined["message"] == "ValueError: boom"
    assert joined["type"] == "error"
    assert joined["id"] == "imp1-last"
    details = joined["details"]
    assert isinstance(details, dict)
    assert details["exception"]["type"] == "ValueError"


def test_colour_codes_are_stripped_from_text_and_json_keeps_where_it_was_read() -> None:
    assert event("\x1b[1;32mready\x1b[0m in 20 ms")["message"] == "ready in 20 ms"
    assert line_to_event("\x1b[0m\x1b[K", stream="stdout", name="web", key=None) is None
    native = '{"message": "native", "type": "warn"}'
    converted = line_to_event(native, stream="stderr", name="web", key=None)
    assert converted is not None
    # A native event goes as it is, with only what it does not say itself: where it was read.
    assert orjson.loads(converted.wire) == {**orjson.loads(native), "category": "web", "source": "run"}
    assert converted.dialect == "json"
    # A logger's line is read here, so its source and category are the run's, not lost in details.
    line = '{"msg": "pino says hi", "level": 30, "time": 1}'
    keyed = line_to_event(line, stream="stderr", name="web", key="imp1-k")
    assert keyed is not None
    assert keyed.dialect == "pino"
    assert orjson.loads(keyed.wire) == {
        "message": "pino says hi",
        "type": "info",
        "timestamp": 1000,  # pino's epoch, read by magnitude
        "details": {"dialect": "pino"},
        "id": "imp1-k",
        "category": "web",
        "source": "run",
    }
    own = line_to_event(
        '{"msg": "q", "level": 40, "pid": 1, "category": "db"}', stream="stdout", name="web", key=None
    )
    assert own is not None
    assert orjson.loads(own.wire)["category"] == "db"
    broken = line_to_event(
        '{"msg": "x", "level": "nope", "pid": 1, "hostname": "h"}', stream="stdout", name="w", key=None
    )
    assert broken is not None
    assert broken.dialect == "json"  # in no dialect: sent as it is, for the server to refuse with its reason
    own = line_to_event('{"message": "m", "id": "mine"}', stream="file", name="x", key="imp1-k")
    assert own is not None
    assert orjson.loads(own.wire)["id"] == "mine"
    assert line_to_event("   ", stream="stdout", name="web", key=None) is None
    assert line_to_event("{not json}", stream="stdout", name="web", key=None) is not None


def test_an_event_that_escaping_made_too_long_is_shortened_to_fit() -> None:
    converted = line_to_event('"' * 600, stream="stdout", name="web", key=None, max_bytes=1000)
    assert converted is not None
    assert len(converted.wire) <= 1000
    assert "chars to fit]" in orjson.loads(converted.wire)["message"]


async def test_lines_are_stored_and_rejections_counted(engine: Engine) -> None:
    sink = TcpSink(f"127.0.0.1:{tcp_port(engine)}")
    await sink.connect()
    await sink.lines(
        [
            SourceLine("server started", "stdout", "web"),
            SourceLine("deprecated option", "stderr", "web"),
            SourceLine(
                '{"message": "native event", "category": "payment", "type": "error"}', "stdout", "web"
            ),
            SourceLine('{"message": ""}', "stdout", "web"),  # rejected: an empty message
            SourceLine("", "stdout", "web"),
        ]
    )
    await sink.events([{"message": "web started (pid 1)", "category": "web", "source": "system"}])
    summary = await sink.close()
    assert (summary.lines, summary.events, summary.blank, summary.sent) == (5, 1, 1, 5)
    assert (summary.stored, summary.rejected) == (4, 1)
    assert summary.first_error is not None
    assert "message" in summary.first_error
    assert summary.dialects == {"json": 2, "text": 2}
    stored = rows(
        engine.settings.db, "SELECT level, category, source, message FROM events WHERE category != 'system'"
    )
    assert stored == [
        ("info", "web", "run", "server started"),
        ("warn", "web", "run", "deprecated option"),
        ("error", "payment", "run", "native event"),
        ("info", "web", "system", "web started (pid 1)"),
    ]
    assert "stored 4" in summary.describe()
    assert "rejected 1" in summary.describe()


async def test_periodic_syncs_keep_the_counts_current(engine: Engine) -> None:
    sink = TcpSink(f"127.0.0.1:{tcp_port(engine)}", sync_every=10)
    await sink.connect()
    await sink.lines([SourceLine(f"line {i}", "stdout", "web") for i in range(35)])
    await until(lambda: sink.summary.stored == 30, message="three periodic syncs answered")
    assert (await sink.close()).stored == 35


async def test_the_same_keys_store_once(engine: Engine, tmp_path: Path) -> None:
    address = f"127.0.0.1:{tcp_port(engine)}"
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(b"request %d served\n" % i for i in range(500)) + b'{"message": "json line"}\n')
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(log.read_bytes()))
    quiet = Progress(enabled=False)
    for path in (log, log, tmp_path / "app.log.1.gz"):
        sink = TcpSink(address)
        await sink.connect()
        status = await import_files([str(path)], sink, progress=quiet, handle_signals=False)
        assert status == 0
    db = engine.settings.db
    assert count(db) - len(rows(db, "SELECT 1 FROM events WHERE source = 'system'")) == 501
    assert rows(
        db, "SELECT count(DISTINCT event_uid), min(category) FROM events WHERE source = 'import'"
    ) == [(501, "app")]


async def test_an_over_long_line_is_stored_cut_and_marked(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "wide.log"
    path.write_bytes(b"x" * (3 * 1024 * 1024) + b"\nafter\n")
    sink = TcpSink(f"127.0.0.1:{tcp_port(engine)}")
    await sink.connect()
    assert await import_files([str(path)], sink, progress=Progress(enabled=False), handle_signals=False) == 0
    (wide, after) = rows(engine.settings.db, "SELECT message FROM events WHERE source = 'import' ORDER BY id")
    assert wide[0].startswith("x" * 1000)
    assert wide[0].endswith("]")
    assert "cut" in wide[0][-40:]
    assert len(wide[0]) <= 1024 * 1024
    assert after == ("after",)


async def test_a_unix_socket_address_works(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    socket_path = tmp_path / "sidelog.sock"
    engine = (await start_server(make_settings(tcp="off", unix=socket_path))).engine
    try:
        sink = TcpSink(f"unix:{socket_path}")
        await sink.connect()
        await sink.lines([SourceLine("over a unix socket", "stdout", "web")])
        assert (await sink.close()).stored == 1
    finally:
        await engine.stop()


async def test_no_server_is_a_one_line_error(unused_tcp_port: int) -> None:
    with pytest.raises(SinkError, match=r"cannot connect to 127\.0\.0\.1:\d+: .*is sidelog running"):
        await TcpSink(f"127.0.0.1:{unused_tcp_port}").connect()
    with pytest.raises(SinkError, match="invalid address"):
        TcpSink("nowhere")


async def _closing_server() -> tuple[asyncio.Server, int]:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_lost_connection_fails_an_import_but_not_a_run() -> None:
    server, port = await _closing_server()
    async with server:
        strict = TcpSink(f"127.0.0.1:{port}")
        await strict.connect()
        await strict.lines([SourceLine("one", "file", "x", "imp1-1")])
        with pytest.raises(SinkError, match="lost the connection"):
            await strict.flush()

        lenient = TcpSink(f"127.0.0.1:{port}", reconnect=True, retry_s=3600)
        await lenient.connect()
        await lenient.lines([SourceLine("one", "stdout", "x")])
        await until(lambda: lenient._conn is not None and lenient._conn.lost, message="hang-up seen")
        await lenient.lines([SourceLine("two", "stdout", "x")])
        summary = await lenient.close()
        assert (summary.stored, summary.lost) == (0, 2)


async def test_an_imported_stack_trace_is_one_event_stored_once(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "django.log"
    path.write_text(
        "Traceback (most recent call last):\n"
        '  File "views.py", line 42, in checkout\n'
        "    charge(order)\n"
        "KeyError: 'amount'\n"
        "GET /checkout 500\n"  # the access line follows the traceback, as Django prints them
        "GET /health 200\n"
    )
    for _ in range(2):
        sink = TcpSink(f"127.0.0.1:{tcp_port(engine)}")
        await sink.connect()
        assert (
            await import_files([str(path)], sink, progress=Progress(enabled=False), handle_signals=False) == 0
        )
    assert rows(
        engine.settings.db, "SELECT level, message FROM events WHERE source = 'import' ORDER BY id"
    ) == [
        ("error", "KeyError: 'amount'"),
        ("error", "GET /checkout 500"),  # a 5xx access line is an error (dialects/text.py)
        ("info", "GET /health 200"),
    ]
