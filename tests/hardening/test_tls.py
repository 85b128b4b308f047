"""HTTPS on the HTTP endpoint (``--tls-cert``/``--tls-key``), with a self-signed certificate
made by ``openssl`` for this test, over real sockets."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from sidelog.config import Settings
from sidelog.server import RunningServer, start_server
from tests.hardening.serve_process import ServeProcess
from tests.support.cli import assert_one_line_error, run


def make_cert(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 (EC keys are made in milliseconds)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=sidelog-test"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
def cert_pair(tmp_path: Path) -> tuple[Path, Path]:
    return make_cert(tmp_path)


@pytest.fixture
async def https_server(
    make_settings: Callable[..., Settings], cert_pair: tuple[Path, Path]
) -> AsyncIterator[RunningServer]:
    cert, key = cert_pair
    running = await start_server(make_settings(http="127.0.0.1:0", tls_cert=cert, tls_key=key))
    yield running
    await running.stop()


async def test_https_serves_and_plain_http_gets_nothing(
    https_server: RunningServer, cert_pair: tuple[Path, Path]
) -> None:
    address = dict(https_server.endpoints)["http"]
    trust = ssl.create_default_context(cafile=str(cert_pair[0]))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session:
        async with session.post(f"https://{address}/v1/events?wait=true", json={"message": "sealed"}) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["stored"] == 1
        async with session.get(f"https://{address}/v1/events", params={"q": "sealed"}) as r:
            assert [e["message"] for e in (await r.json())["events"]] == ["sealed"]
        with pytest.raises(aiohttp.ClientError):
            async with session.get(f"http://{address}/v1/health") as r:
                await r.read()
    async with aiohttp.ClientSession() as untrusting:  # the system's CAs do not know this cert
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with untrusting.get(f"https://{address}/v1/health") as r:
                await r.read()
    assert https_server.connections is not None
    assert https_server.connections.open <= 1  # failed handshakes gave their slots back


def test_commands_speak_https(tmp_path: Path, cert_pair: tuple[Path, Path]) -> None:
    cert, key = cert_pair
    db = tmp_path / "db" / "events.db"
    server = ServeProcess(db, extra=["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        url = f"https://{server.endpoints['http']}"
        pruned = run(["prune", "--db", str(db), "--to", url], tmp_path, SSL_CERT_FILE=str(cert))
        assert pruned.returncode == 0, pruned.stderr
        assert "pruned by the running sidelog" in pruned.stdout
        untrusted = run(["tail", "--to", url], tmp_path)
        assert_one_line_error(untrusted, 1, "certificate verify failed")
    finally:
        server.stop()


@pytest.mark.parametrize("problem", ["garbage", "mismatch", "missing", "half", "device"])
def test_a_cert_that_does_not_load_stops_the_start(tmp_path: Path, problem: str) -> None:
    cert, key = make_cert(tmp_path)
    _, other_key = make_cert(tmp_path, "other")
    if problem == "garbage":
        cert.write_text("not a certificate\n")
    flags = {
        "garbage": ["--tls-cert", str(cert), "--tls-key", str(key)],
        "mismatch": ["--tls-cert", str(cert), "--tls-key", str(other_key)],
        "missing": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(key)],
        "half": ["--tls-cert", str(cert)],
        "device": ["--tls-cert", "/dev/zero", "--tls-key", str(key)],  # would never end if read
    }[problem]
    result = run(["serve", "--tcp", "off", "--http", "127.0.0.1:0", *flags], tmp_path)
    needle = {
        "garbage": "cannot load the TLS certificate",
        "mismatch": "the key does not belong to the certificate",
        "missing": "no such file",
        "half": "TLS needs both a certificate and a key",
        "device": "cannot load the TLS certificate /dev/zero: not a regular file",
    }[problem]
    assert_one_line_error(result, 2 if problem == "half" else 1, needle)
