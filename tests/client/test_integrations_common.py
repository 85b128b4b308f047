"""What all integrations share: the secret words, URL redaction, auth and feedback events,
and that enabling nothing imports nothing."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sidelog.engine import Engine
from sidelog.redact import DEFAULT_KEYS, Redactor
from sidelog_client import SidelogASGIMiddleware, SidelogWSGIMiddleware
from sidelog_client.encode import encode_line
from sidelog_client.redact import SECRET_WORDS, redact_query, redact_url
from tests.client.conftest import MakeLogger
from tests.client.http_app import logged
from tests.conftest import tcp_port

ROOT = Path(__file__).resolve().parents[2]
INTEGRATIONS = ROOT / "clients" / "python" / "src" / "sidelog_client" / "integrations"
SIDELOG_JS = ROOT / "src" / "sidelog" / "static" / "sidelog.js"
LIBRARIES = ("httpx", "requests", "aiohttp", "sqlalchemy")

URLS = [
    "https://api.example.com/v1/users?api_key=k1&page=2",
    "https://api.example.com/v1/users?page=2&tokens_used=3&sessionId=s",
    "https://user:pw@db.example.com:5432/app?x=1",
    "/relative/path?refreshToken=r&X-Api-Key=k#access_token=a&state=s",
    "https://example.com/plain",
    "https://example.com/?client_secret=&sig=abc",
]


def test_the_client_the_server_and_sidelog_js_treat_the_same_names_as_secret() -> None:
    assert DEFAULT_KEYS is SECRET_WORDS  # the server takes the client's words (sidelog/redact.py)
    array = re.search(r"var SECRET_WORDS = \[(.*?)\];", SIDELOG_JS.read_text(encoding="utf-8"), re.DOTALL)
    assert array is not None
    assert tuple(json.loads("[" + array.group(1).rstrip().rstrip(",") + "]")) == DEFAULT_KEYS


@pytest.mark.parametrize("url", URLS)
def test_urls_are_redacted_as_the_server_redacts_them(url: str) -> None:
    assert redact_url(url) == Redactor().url(url)


def test_query_redaction_keeps_other_pairs_as_written() -> None:
    assert redact_query("q=a%20b&Authorization=Bearer+x&n=1") == "q=a%20b&Authorization=[redacted]&n=1"
    assert redact_query("tokens_used=3&page=2") == "tokens_used=3&page=2"


def test_the_url_of_any_event_is_redacted_before_it_is_sent() -> None:
    item = (
        0,
        1.0,
        "m",
        "general",
        "info",
        None,
        None,
        None,
        "https://x.test/cb?code=1&id_token=T",
        *[None] * 5,
    )
    line = json.loads(encode_line(item, "uid-1", "server"))
    assert line["url"] == "https://x.test/cb?code=1&id_token=[redacted]"


async def test_auth_and_feedback_events(engine: Engine, make_logger: MakeLogger) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    log.auth("success", provider="google", user_id="u_1")
    log.auth("FAILURE", provider="password", user_id="u_2", reason="wrong password", attempt=3)
    log.auth("error", provider="saml", reason="IdP unreachable")
    log.auth(object())  # an odd outcome: logged as info, never raised
    log.feedback("The page froze on checkout", email="ada@example.test", session_id="s-1", user_id="u_1")
    rows = await logged(log, engine, "category IN ('auth', 'feedback')")
    assert [(row["category"], row["level"], row["message"], row["user_id"]) for row in rows] == [
        ("auth", "info", "Auth success (google)", "u_1"),
        ("auth", "warn", "Auth failure (password): wrong password", "u_2"),
        ("auth", "error", "Auth error (saml): IdP unreachable", None),
        ("auth", "info", rows[3]["message"], None),
        ("feedback", "info", "The page froze on checkout", "u_1"),
    ]
    assert rows[1]["details"] == {
        "outcome": "failure",
        "provider": "password",
        "reason": "wrong password",
        "attempt": 3,
    }
    assert (rows[4]["session_id"], rows[4]["details"]) == ("s-1", {"email": "ada@example.test"})


async def test_the_request_middleware_redacts_secret_query_parameters(
    engine: Engine, make_logger: MakeLogger
) -> None:
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: Any) -> None:
        return None

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/reset",
        "query_string": b"reset_token=T-1&step=2",
        "headers": [(b"host", b"localhost:8000")],
    }
    await SidelogASGIMiddleware(asgi_app, logger=log)(scope, None, send)

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/login",
        "QUERY_STRING": "password=P-2&next=/home",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost:8001",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8001",
    }
    body = SidelogWSGIMiddleware(wsgi_app, logger=log)(environ, lambda *args: None)
    body.close()  # type: ignore[attr-defined]
    asgi, wsgi = await logged(log, engine, "category = 'api'")
    assert asgi["details"]["query"] == "reset_token=[redacted]&step=2"
    assert asgi["url"] == "http://localhost:8000/reset?reset_token=[redacted]&step=2"
    assert wsgi["details"]["query"] == "password=[redacted]&next=/home"
    assert "T-1" not in str([asgi, wsgi])
    assert "P-2" not in str([asgi, wsgi])


def test_the_integration_modules_import_their_library_only_when_enabled() -> None:
    """Module level: standard library and sidelog_client only (an app without httpx can import them)."""
    allowed = set(sys.stdlib_module_names) | {"sidelog_client"}
    for path in INTEGRATIONS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # not inside functions: those run only when enabled
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            assert all(name.split(".")[0] in allowed for name in names), f"{path.name}: {names}"
    code = (
        "import sys\n"
        "import sidelog_client.integrations.httpx, sidelog_client.integrations.requests\n"
        "import sidelog_client.integrations.aiohttp, sidelog_client.integrations.sqlalchemy\n"
        "print(' '.join(sorted(set(name.split('.')[0] for name in sys.modules))))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert loaded.isdisjoint(LIBRARIES)
