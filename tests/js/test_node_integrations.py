"""sidelog.js in Node: a crash is sent before the process dies, and the consola reporter.

Each crash scenario runs twice, with ``captureErrors`` off and on: the exit code and
stderr must be the same both times, and sidelog must hold exactly one error event
from the second run. Other Node binaries can be added with ``JS_TEST_NODES`` (paths
separated by ``:``), e.g. to check Node 18 and 22 beside the machine's ``node``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sidelog.config import Settings
from sidelog.engine import Engine
from tests.client.conftest import stored
from tests.integration.http_support import http_base, start
from tests.js.npm_support import CONSOLA, npm_install

ROOT = Path(__file__).resolve().parents[2]
SIDELOG_JS = ROOT / "src" / "sidelog" / "static" / "sidelog.js"
HERE = Path(__file__).parent
NODES = [path for path in [shutil.which("node"), *os.environ.get("JS_TEST_NODES", "").split(":")] if path]

pytestmark = pytest.mark.skipif(not NODES, reason="node is not installed")


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[Engine]:
    engine = await start(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    yield engine
    await engine.stop()


async def run(node: str, *args: str, cwd: Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``node args…``."""
    process = await asyncio.create_subprocess_exec(
        node, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def rows(engine: Engine, where: str) -> list[dict[str, Any]]:
    from sidelog.pipeline.queue import Origin

    await engine.wait_committed(Origin("test"))
    return stored(engine.settings.db, where)


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize(
    ("mode", "message", "kind"),
    [
        ("throw", "top-level boom", "uncaughtException"),
        ("reject", "nobody handled this", "unhandledRejection"),
        ("reject-later", "async boom", "unhandledRejection"),
    ],
)
async def test_a_crash_is_stored_once_and_the_process_dies_as_it_would(
    server: Engine, tmp_path: Path, node: str, mode: str, message: str, kind: str
) -> None:
    script = str(HERE / "node_crash.js")
    base = http_base(server)
    plain = await run(node, script, mode, str(SIDELOG_JS), base, "0", cwd=tmp_path)
    captured = await run(node, script, mode, str(SIDELOG_JS), base, "1", cwd=tmp_path)

    assert captured[0] == plain[0] == 1
    assert captured[2] == plain[2]  # the same message, source line and stack on stderr
    assert message in captured[2]
    (error,) = await rows(server, "level = 'error'")
    assert error["message"] == message
    assert error["category"] == "error"
    assert error["details"]["kind"] == kind
    assert message in error["details"]["stack"]
    # The event logged just before the crash is delivered by both runs (the exit hook).
    assert len(await rows(server, "category = 'crash-test'")) == 2


@pytest.mark.parametrize("node", NODES)
async def test_process_exit_sends_what_is_queued_and_keeps_its_code(
    server: Engine, tmp_path: Path, node: str
) -> None:
    code, _, err = await run(
        node, str(HERE / "node_crash.js"), "exit", str(SIDELOG_JS), http_base(server), "1", cwd=tmp_path
    )
    assert (code, err) == (3, "")
    (row,) = await rows(server, "category = 'crash-test'")
    assert row["message"] == "about to exit"


async def test_a_crash_while_sidelog_is_down_exits_at_once_as_it_would(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    script = str(HERE / "node_crash.js")
    node = NODES[0]
    plain = await run(node, script, "throw", str(SIDELOG_JS), base, "0", cwd=tmp_path)
    started = time.monotonic()
    captured = await run(node, script, "throw", str(SIDELOG_JS), base, "1", cwd=tmp_path)
    assert time.monotonic() - started < 10
    assert captured[0] == plain[0] == 1
    assert captured[2] == plain[2]


@pytest.fixture(scope="session")
def consola_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return npm_install(tmp_path_factory.getbasetemp() / "npm-consola", CONSOLA)


async def test_consola_reporter_maps_types_tags_and_errors(
    server: Engine, tmp_path: Path, consola_modules: Path
) -> None:
    code, out, err = await run(
        NODES[0],
        str(HERE / "node_consola.js"),
        str(SIDELOG_JS),
        http_base(server),
        str(consola_modules),
        cwd=tmp_path,
    )
    assert code == 0, err
    assert out.strip() == '{"queued":0,"dropped":0,"failed":0}'
    found = {row["message"]: row for row in await rows(server, "1")}
    levels = {
        message: (row["level"], row["category"], row["details"]["consola"]) for message, row in found.items()
    }
    assert levels == {
        "fatal: config missing": ("error", "console", "fatal"),
        "database down": ("error", "console", "error"),
        "disk almost full 91": ("warn", "console", "warn"),
        "plain log line": ("info", "console", "log"),
        "info line": ("info", "console", "info"),
        "build done": ("info", "console", "success"),
        "lint failed": ("warn", "console", "fail"),
        "server ready": ("info", "console", "ready"),
        "starting build": ("info", "console", "start"),
        "boxed notice": ("info", "console", "box"),
        "debug detail": ("debug", "console", "debug"),
        "trace detail": ("debug", "console", "trace"),
        "verbose detail": ("debug", "console", "verbose"),
        "card declined": ("warn", "payments", "warn"),
    }
    error = found["database down"]["details"]
    assert error["name"] == "Error"
    assert "database down" in error["stack"]
    assert error["args"] == [{"retry": 3}]
    assert found["card declined"]["details"]["tag"] == "Payments"
    assert found["card declined"]["details"]["args"] == [{"orderId": 7}]


async def test_auth_events_issue_reports_and_url_redaction(server: Engine, tmp_path: Path) -> None:
    from aiohttp import web

    from sidelog.redact import Redactor
    from tests.client.test_integrations_common import URLS

    received: list[tuple[str, dict[str, Any]]] = []

    async def feedback(request: web.Request) -> web.Response:
        received.append((request.content_type, await request.json()))
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_post("/v1/feedback", feedback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        code, out, err = await run(
            NODES[0],
            str(HERE / "node_misc.js"),
            str(SIDELOG_JS),
            http_base(server),
            f"http://127.0.0.1:{runner.addresses[0][1]}",
            json.dumps(URLS),
            cwd=tmp_path,
        )
    finally:
        await runner.cleanup()
    assert code == 0, err
    result = json.loads(out)
    assert result["sent"] == {"ok": True, "status": 201}
    assert result["down"] == {"ok": False, "status": 0}
    assert result["empty"] == {"ok": False, "status": 0}  # no message: nothing sent
    assert result["onSidelogType"] == "boolean"
    assert result["urls"] == [Redactor().url(url) for url in URLS]  # as the server redacts
    assert received == [
        (
            "application/json",
            {
                "message": "Checkout froze",
                "email": "ada@example.test",
                "sessionId": None,
                "userId": "u-9",
                "url": None,
                "userAgent": received[0][1]["userAgent"],
            },
        )
    ]

    auth = await rows(server, "category = 'auth'")
    assert [(row["level"], row["message"], row["user_id"]) for row in auth] == [
        ("info", "Auth success (github)", "u-9"),
        ("warn", "Auth failure (password): wrong password", "u-10"),
        ("error", "Auth error (saml): IdP unreachable", "u-9"),
        ("info", "Auth unknown", "u-9"),
    ]
    assert auth[2]["details"] == {
        "outcome": "error",
        "provider": "saml",
        "reason": "IdP unreachable",
        "attempt": 2,
    }
