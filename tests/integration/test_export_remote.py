"""``sidelog export --to http(s)://HOST:PORT``: a real server read over its HTTP API writes
the same bytes as ``sidelog export --db`` on the same store (commands/remote_export.py).

The exports that must match run in a worker thread (``sidelog.cli.main`` writing to a
file) while the server runs on the test's event loop; failures run as real processes,
so their one-line stderr and exit status are checked too.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest

from sidelog.cli import main
from sidelog.config import Settings
from sidelog.server import RunningServer, start_server
from tests.conftest import send_lines, tcp_port
from tests.support.cli import clean_env
from tests.support.lan import lan_address

VIEWER = "viewer-Jd8Fq2Lp6Xs4Nv9Tb3Kw7Mr1"
SHARED = "shared-Pz5Gh1Uc8Ey3Ra6Dk2Vn9Sj4"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _events() -> bytes:
    """Every kind of value the export writes, and more events than one API page (1,000)."""
    special = [
        {"message": '=HYPERLINK("http://x","y")', "type": "error", "category": "payment", "sessionId": "s1"},
        {"message": "+1 card \u009b declined \u202e", "type": "warn", "userId": "ann", "sessionId": "s1"},
        {"message": "-minus @at", "details": {"a": [1, 2.5, None], "é": "\u200b", "n": 2**40}},
        {"message": "told", "showToUser": True, "userMessage": "Oops\ttab", "id": "key-1"},
        {"message": "quiet", "showToUser": False, "url": "https://x/\u202e", "userAgent": "ua"},
        {"message": "traced", "type": "error", "details": {"traceId": TRACE}, "sessionId": "s1"},
        {"message": '=HYPERLINK("http://x","y")', "type": "error", "category": "payment", "sessionId": "s2"},
    ]
    bulk = [
        {
            "message": f"bulk {i}",
            "type": "info" if i % 3 else "debug",
            "category": f"c{i % 4}",
            "timestamp": 1_700_000_000_000 + (i * 7919) % 5000,
            "sessionId": "s1" if i % 5 == 0 else None,
        }
        for i in range(2300)
    ]
    return b"".join(orjson.dumps(event) + b"\n" for event in [*special, *bulk, special[0]])


async def _fill(running: RunningServer) -> None:
    replies = await send_lines(tcp_port(running.engine), _events())
    assert replies[-1].get("ok") is True, replies[-3:]


@pytest.fixture
async def server(make_settings: Callable[..., Settings]) -> AsyncIterator[RunningServer]:
    running = await start_server(make_settings(http="127.0.0.1:0", enable_system_logging=False))
    await _fill(running)
    yield running
    await running.stop()


async def export_to_file(target: Path, *args: str) -> bytes:
    """``sidelog export ARGS -o target`` in a thread (the server keeps running here)."""
    code = await asyncio.to_thread(main, ["export", *args, "-o", str(target)])
    assert code == 0
    return target.read_bytes()


async def export_process(*args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidelog",
        "export",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(**env),
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def in_thread(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``sidelog export ARGS`` in a thread: exit status and stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["export", *args])
    return code, capsys.readouterr().err


def one_line(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--format", "csv"],
        ["--level", "error,warn", "--category", "payment"],
        ["--format", "csv", "--session", "s1", "-q", "BULK", "--since", "2023-11-14T22:13:21Z"],
        ["--trace", TRACE],
    ],
)
async def test_remote_export_equals_the_local_one(
    server: RunningServer, tmp_path: Path, flags: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIDELOG_TOKEN", raising=False)
    local = await export_to_file(tmp_path / "local", "--db", str(server.engine.settings.db), *flags)
    url = f"http://{dict(server.endpoints)['http']}"
    remote = await export_to_file(tmp_path / "remote", "--to", url, *flags)
    assert remote == local
    assert local  # the filters select something (a CSV has its header at least)
    if not flags:
        lines = local.splitlines()
        assert len(lines) == 2308  # three API pages and a bit
        assert b"\\u009b" in local
        assert "\u202e".encode() not in local
        first = orjson.loads(lines[0])
        assert first["message"].startswith("=HYPERLINK")
    if flags[:2] == ["--format", "csv"] and len(flags) == 2:
        assert b"'=HYPERLINK" in local  # formula cells made inert, the same way
        assert b",1," in local  # showToUser true is stored (and written) as 1


async def test_bundle_over_http_equals_the_local_bundle(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = await server.engine.groups(limit=10, status=None)
    fingerprint = next(group.fingerprint for group in groups if group.message.startswith("=HYPERLINK"))
    db = str(server.engine.settings.db)
    url = f"http://{dict(server.endpoints)['http']}"
    for events in ("20", "3", "0"):
        local = await export_to_file(
            tmp_path / "local.md", "--db", db, "--bundle", fingerprint, "--events", events
        )
        remote = await export_to_file(
            tmp_path / "remote.md", "--to", url, "--bundle", fingerprint, "--events", events
        )
        assert remote == local
        assert fingerprint.encode() in local
    code, err = await in_thread(capsys, "--to", url, "--bundle", "no-such-group")
    assert code == 1
    one_line(err, "no error group with fingerprint 'no-such-group'")


def make_cert(folder: Path, ip: str) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for ``ip`` (EC keys are made in milliseconds)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=sidelog-test"]
        + ["-addext", f"subjectAltName=IP:{ip},IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


async def test_https_with_a_read_only_token(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = lan_address()
    cert, key = make_cert(tmp_path, host)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"grafana {VIEWER} read-only\n")
    tokens.chmod(0o600)
    settings = make_settings(
        tcp="127.0.0.1:0",
        http=f"{host}:0",
        allow_remote=True,
        token=SHARED,
        tokens_file=tokens,
        tls_cert=cert,
        tls_key=key,
        enable_system_logging=False,
    )
    monkeypatch.delenv("SIDELOG_TOKEN", raising=False)
    running = await start_server(settings)
    try:
        await _fill(running)
        url = f"https://{dict(running.endpoints)['http']}"
        code, err = await in_thread(capsys, "--to", url, "--token", VIEWER)  # the system CAs do not know it
        assert code == 1
        one_line(err, "cannot verify the certificate", "SSL_CERT_FILE")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        local = await export_to_file(
            tmp_path / "local", "--db", str(settings.db), "--format", "csv", "-q", "bulk"
        )
        remote = await export_to_file(
            tmp_path / "remote", "--to", url, "--token", VIEWER, "--format", "csv", "-q", "bulk"
        )
        assert remote == local
        assert local.count(b"\n") > 2000  # pages of the API, over HTTPS, with a read-only token
        code, err = await in_thread(capsys, "--to", url)
        assert code == 1
        one_line(err, "HTTP 401", "authentication required", "pass --token or set SIDELOG_TOKEN")
        monkeypatch.setenv("SIDELOG_TOKEN", "wrong-token-0123456789")
        code, err = await in_thread(capsys, "--to", url)
        assert code == 1
        one_line(err, "HTTP 401", "check the token")
        code, err = await in_thread(capsys, "--to", url.replace("https", "http"), "--token", VIEWER)
        assert code == 1
        one_line(err, "cannot connect to", "https://")
    finally:
        await running.stop()


async def test_bad_targets_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.postgres import free_port

    out = tmp_path / "out.jsonl"
    code, stdout, err = await export_process("--to", f"http://127.0.0.1:{free_port()}", "-o", str(out))
    assert (code, stdout) == (1, "")
    one_line(err, "cannot connect to 127.0.0.1", "refused", "is sidelog running there?")
    assert not out.exists()  # nothing written before the server answered
    cases = [
        (["--to", "ftp://host:1"], "invalid address 'ftp://host:1'"),
        (["--to", "http://host"], "invalid --to 'http://host'"),
        (["--to", "http://127.0.0.1:1", "--db", str(tmp_path / "x.db")], "give one of them"),
    ]
    for args, needle in cases:
        code, err = await in_thread(capsys, *args)
        assert code == 1, err
        one_line(err, needle)
