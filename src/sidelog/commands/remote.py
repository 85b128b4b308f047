"""Asking a running sidelog to do what a command would otherwise do to the database itself.

One sidelog owns a database file at a time (the lock file beside it, README
"Storage"), so ``sidelog prune`` and ``sidelog vacuum`` cannot open a database a
server is using. Rather than fail with "in use by another sidelog", they ask that
server over its HTTP API (``POST /v1/prune``, ``POST /v1/vacuum``), which does the
work in the writer's short turns while ingest carries on. The address comes from
``--to``, else ``SIDELOG_HTTP`` (with the other settings' sources: ``.env.local``,
``.env``), else ``127.0.0.1:7412``.

When the server cannot be reached there, the newest ``sidelog started`` event in
the database (it lists the endpoints the server bound) tells which: a server
without an HTTP endpoint, or one listening elsewhere. Either way, one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from sidelog.commands.common import CommandError, bearer_headers, split_scheme
from sidelog.config import Endpoint, Settings, parse_endpoint
from sidelog.server import token_path

__all__ = ["database_in_use", "prune_remote", "started_endpoints", "vacuum_remote"]

PRUNE_TIMEOUT_S = 3600.0
"""A prune (or vacuum) of a large store runs in many short writer turns; give it time."""
CONNECT_TIMEOUT_S = 5.0


def lock_path(db: Path) -> Path:
    """The lock file a running server holds for ``db``, through any symlink or ``..``."""
    from sidelog.store.files import lock_file

    return lock_file(db)


def database_in_use(db: Path) -> bool:
    """Whether a running sidelog holds ``db``'s lock.

    Probed with a shared, non-blocking ``flock`` that is let go at once; the file is
    only opened for reading, so a probe never creates or rewrites it.
    """
    try:
        fd = os.open(lock_path(db), os.O_RDONLY)
    except OSError:
        return False  # no lock file: no server ever opened this database
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def started_endpoints(db: Path) -> list[str] | None:
    """The endpoints (``"http 127.0.0.1:7412"``…) of the newest server start recorded in ``db``.

    ``None`` when unknown (no such event: ``ENABLE_SYSTEM_LOGGING`` off, or unreadable).
    """
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2.0)) as conn:
            row = conn.execute(
                "SELECT details FROM events WHERE source = 'system' AND message = 'sidelog started' "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return None
    if row is None or not row[0]:
        return None
    try:
        endpoints = orjson.loads(row[0]).get("endpoints")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return [str(e) for e in endpoints] if isinstance(endpoints, list) else None


async def prune_remote(settings: Settings, to: str | None, token: str | None = None) -> int:
    """Ask the server using ``settings.db`` to prune; print what it deleted and archived.

    ``to`` may be ``https://HOST:PORT``; ``token`` (``--token``) goes before
    ``SIDELOG_TOKEN`` and the ``token`` file beside the database.
    """
    endpoint, answer = await _ask(settings, to, token, "prune")
    extra = {k: v for k, v in answer.items() if k not in ("deleted", "archived")}
    details = ", ".join(
        f"{key} {value:.3g}" if isinstance(value, float) else f"{key} {value}" for key, value in extra.items()
    )
    print(
        f"pruned by the running sidelog at {endpoint}: {answer.get('deleted', 0)} events deleted, "
        f"{answer.get('archived', 0)} errors archived" + (f" ({details})" if details else "")
    )
    return 0


async def vacuum_remote(settings: Settings, to: str | None, token: str | None = None) -> int:
    """Ask the server using ``settings.db`` to give its free pages back; print the sizes."""
    endpoint, answer = await _ask(settings, to, token, "vacuum")
    before, after = int(answer.get("bytesBefore", 0)), int(answer.get("bytesAfter", 0))
    print(
        f"vacuumed by the running sidelog at {endpoint}: database and WAL {before:,} → {after:,} bytes "
        f"({max(before - after, 0):,} freed, {answer.get('releasedPages', 0):,} pages released)"
    )
    return 0


async def _ask(
    settings: Settings, to: str | None, token: str | None, what: str
) -> tuple[Endpoint, dict[str, Any]]:
    """``POST /v1/<what>`` to the server using ``settings.db``: its address and its JSON answer."""
    scheme, text = split_scheme(to or settings.http)
    try:
        endpoint = parse_endpoint(text, default_host="127.0.0.1")
    except ValueError as exc:
        raise CommandError(f"invalid address (--to / SIDELOG_HTTP): {exc}") from None
    if endpoint is None:
        raise CommandError(_no_http(settings.db, "SIDELOG_HTTP is off here", what))
    if endpoint.host in ("0.0.0.0", "::"):  # a wildcard bind is reached through loopback
        endpoint = Endpoint("127.0.0.1" if endpoint.host == "0.0.0.0" else "::1", endpoint.port)
    return endpoint, await _post(endpoint, token or _token(settings), settings.db, scheme, what)


def _no_http(db: Path, why: str, what: str) -> str:
    itself = "it prunes by itself hourly, or " if what == "prune" else ""
    return (
        f"the database {db} is in use by a running sidelog that has no HTTP endpoint ({why}), so it "
        f"cannot be asked to {what}: {itself}stop it and run sidelog {what} again"
    )


def _token(settings: Settings) -> str | None:
    """The bearer token, for a server bound to a non-loopback address (README "HTTP API")."""
    if settings.token:
        return settings.token
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return token_path(settings).read_text().strip() or None
    return None


async def _post(endpoint: Endpoint, token: str | None, db: Path, scheme: str, what: str) -> dict[str, Any]:
    import aiohttp  # deferred: only this path of the command needs it

    headers = {"Content-Type": "application/json", **bearer_headers(token)}
    timeout = aiohttp.ClientTimeout(total=PRUNE_TIMEOUT_S, sock_connect=CONNECT_TIMEOUT_S)
    url = f"{scheme}://{endpoint}/v1/{what}"
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=b"{}", headers=headers) as response,
        ):
            body = await response.read()
            status = response.status
    except aiohttp.ClientConnectorError as exc:
        raise _unreachable(endpoint, db, exc, what) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CommandError(f"asking {endpoint} to {what} failed: {exc or type(exc).__name__}") from None
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        answer = None
    if status != 200 or not isinstance(answer, dict):
        reason = answer.get("error") if isinstance(answer, dict) else body[:200].decode("utf-8", "replace")
        raise CommandError(f"{endpoint} refused to {what}: {status} {reason}")
    return answer


def _unreachable(endpoint: Endpoint, db: Path, exc: OSError, what: str) -> CommandError:
    """Why the server using ``db`` could not be reached at ``endpoint``, in one line."""
    endpoints = started_endpoints(db)
    if endpoints is not None:
        http = [e.removeprefix("http ") for e in endpoints if e.startswith("http ")]
        if not http:
            return CommandError(_no_http(db, "it was started with --http off", what))
        if str(endpoint) not in http:
            return CommandError(
                f"cannot connect to {endpoint}; the sidelog using {db} listens on http {http[0]}: "
                f"run sidelog {what} --to {http[0]}"
            )
    reason = exc.strerror.lower() if exc.strerror else str(exc) or type(exc).__name__
    return CommandError(
        f"the database {db} is in use by a running sidelog, but its HTTP endpoint {endpoint} "
        f"cannot be reached ({reason}); pass its address with --to"
    )
