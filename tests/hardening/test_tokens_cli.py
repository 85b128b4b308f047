"""Every command takes the token: ``send``, ``tail``, ``prune``, the Python client, against a
real ``sidelog serve`` on this machine's LAN address (a remote server, as far as it can tell)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.hardening.serve_process import ServeProcess
from tests.support.cli import assert_one_line_error, clean_env, run
from tests.support.lan import lan_address
from tests.support.wait import until_sync

ALICE = "cli-alice-Wq4Ej8Tn2Yh6Ub1Kz5Ls9"
VIEWER = "cli-viewer-Bx3Mg7Rc1Nf5Vp9Dj2Hs6"


@pytest.fixture
def team_server(tmp_path: Path) -> Iterator[ServeProcess]:
    host = lan_address()
    tokens = tmp_path / "tokens"
    tokens.write_text(f"alice {ALICE}\nviewer {VIEWER} read-only\n")
    tokens.chmod(0o600)
    extra = ["--tcp", f"{host}:0", "--http", f"{host}:0", "--allow-remote", "--tokens", str(tokens)]
    server = ServeProcess(tmp_path / "db" / "events.db", extra=extra)
    yield server
    server.stop()


def events_seen(server: ServeProcess, message: str) -> list[dict[str, object]]:
    status, body, _ = server.request(
        "GET", f"/v1/events?{urlencode({'q': message})}", headers={"Authorization": f"Bearer {VIEWER}"}
    )
    assert status == 200, body
    return [event for event in body["events"] if event["message"] == message]


def clients(server: ServeProcess) -> int:
    status, body, _ = server.request("GET", "/v1/health", headers={"Authorization": f"Bearer {VIEWER}"})
    assert status == 200, body
    return int(body["clients"])


def test_send_takes_the_token_and_the_viewer_tails(team_server: ServeProcess, tmp_path: Path) -> None:
    tcp, http = team_server.endpoints["tcp"], team_server.endpoints["http"]
    tail = subprocess.Popen(
        [sys.executable, "-m", "sidelog", "tail", "--json", "--to", http, "--token", VIEWER],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        until_sync(lambda: clients(team_server) >= 1, message="tail attached")
        sent = run(["send", "from the flag", "--to", tcp, "--token", ALICE], tmp_path)
        assert sent.returncode == 0, sent.stderr
        assert tail.stdout is not None
        line = json.loads(tail.stdout.readline())
        assert line["message"] == "from the flag"
        assert line["details"]["client"] == "alice"
    finally:
        tail.terminate()
        tail.communicate(timeout=10)  # also closes its pipes
    by_env = run(["send", "from the environment", "--to", tcp], tmp_path, SIDELOG_TOKEN=ALICE)
    assert by_env.returncode == 0, by_env.stderr
    until_sync(lambda: bool(events_seen(team_server, "from the environment")))

    refused = run(["send", "sneaky", "--to", tcp, "--token", VIEWER], tmp_path)
    assert_one_line_error(refused, 1, "rejected: the token of 'viewer' is read-only")
    anonymous = run(["send", "sneaky", "--to", tcp], tmp_path)
    assert_one_line_error(anonymous, 1, "authentication required")
    no_stream = run(["tail", "--to", http], tmp_path)
    assert_one_line_error(no_stream, 1, "HTTP 401")


def test_prune_and_the_python_client_take_the_token(team_server: ServeProcess, tmp_path: Path) -> None:
    http = team_server.endpoints["http"]
    db = str(tmp_path / "db" / "events.db")
    pruned = run(["prune", "--db", db, "--to", http, "--token", ALICE], tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert "pruned by the running sidelog" in pruned.stdout
    viewer = run(["prune", "--db", db, "--to", f"http://{http}", "--token", VIEWER], tmp_path)
    assert_one_line_error(viewer, 1, "refused to prune: 403", "read-only")

    lines = tmp_path / "app.log"
    lines.write_text("imported with the token\n")
    tcp = team_server.endpoints["tcp"]
    imported = run(["import", str(lines), "--to", tcp, "--token", ALICE], tmp_path)
    assert imported.returncode == 0, imported.stderr
    until_sync(lambda: bool(events_seen(team_server, "imported with the token")))
    assert events_seen(team_server, "imported with the token")[0]["details"]["client"] == "alice"  # type: ignore[index]

    client = (
        "from sidelog_client import EventLogger\n"
        "log = EventLogger()\n"
        "log.event('from the python client', details={'client': 'mallory'})\n"
        "assert log.flush(10)\n"
        "log.close()\n"
    )
    env = clean_env(SIDELOG_ADDRESS=team_server.endpoints["tcp"], SIDELOG_TOKEN=ALICE)
    subprocess.run([sys.executable, "-c", client], env=env, cwd=tmp_path, check=True, timeout=30)
    until_sync(lambda: bool(events_seen(team_server, "from the python client")))
    (event,) = events_seen(team_server, "from the python client")
    assert event["details"] == {"client": "alice"}


def test_bad_tokens_file_stops_the_start(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"alice {ALICE}\nbob {ALICE}\n")
    tokens.chmod(0o600)
    result = run(["serve", "--tcp", "127.0.0.1:0", "--http", "off", "--tokens", str(tokens)], tmp_path)
    assert_one_line_error(result, 1, f"{tokens}:2: the token of 'bob' is already used on line 1")
    tokens.chmod(0o640)
    result = run(
        ["serve", "--tcp", "127.0.0.1:0", "--http", "off"], tmp_path, SIDELOG_TOKENS_FILE=str(tokens)
    )
    assert_one_line_error(result, 1, "may be read by other users (mode 0640)", "chmod 600")
