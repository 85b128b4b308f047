"""Running sidelog: the one composition root that starts an engine with its endpoints.

``sidelog serve``, the terminal UI and the UI benchmark all start through
``start_server``, so they listen on exactly the same endpoints, in the same order,
with the same process settings. Argument parsing stays in ``cli.py``; this module
owns what running needs:

* process settings: a 1 ms GIL switch interval, the soft open-file limit raised
  to the hard one and a larger young-generation GC threshold (``tune_process``;
  see pipeline/memory.py);
* the connection cap every endpoint shares (``max_connections``, else derived from
  that open-file limit), so clients can never take the descriptors the database,
  ``/v1/health`` and the UI need;
* the remote-access token, generated only when a non-loopback bind needs it, with
  the tokens file's named and read-only ones (ingest/tokens.py) and the TLS
  context of ``--tls-cert``/``--tls-key`` (ingest/tls.py);
* the start-up order: store, token, TCP and Unix, HTTP, the ``--forward``
  forwarders (sidelog/forward/), then the ``sidelog started`` event; a failure
  anywhere stops what already started.

The endpoints (``sidelog.ingest``) never import the engine: they are handed it as
the ``IngestSink``/``EngineAPI`` protocols of ``sidelog.ingest.sink``. They are imported
only once the store is open (after the UI's paint step), so loading them never delays
the newest events on screen.
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
import stat
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sidelog.config import Settings
from sidelog.engine import Engine, StopReport
from sidelog.errors import StartupError, startup_reason
from sidelog.pipeline.memory import tune_collector
from sidelog.store.database import StoreError

if TYPE_CHECKING:
    from sidelog.ingest.accept import ConnectionCap
    from sidelog.ingest.http import HttpOptions

__all__ = [
    "RemoteToken",
    "RunningServer",
    "StartupError",
    "StoreError",
    "ensure_token",
    "needs_token",
    "raise_open_file_limit",
    "start_server",
    "token_path",
    "tune_process",
]

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
"""The writer runs SQLite on the driver's thread, which must win the GIL back after
every statement step; with the default 5 ms a busy event loop makes it wait that
long each time. 1 ms keeps both threads moving."""

_UNBOUNDED_NOFILE_TARGETS = (1 << 20, 65_536, 10_240)
"""Soft limits to try, largest first, when the hard limit is unlimited (macOS)."""


@dataclass(frozen=True, slots=True)
class RemoteToken:
    """The shared secret remote clients must present, and where it is kept."""

    value: str
    file: Path | None
    """The 0600 file it was read from or generated into; ``None`` when ``SIDELOG_TOKEN`` set it."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A started engine with its endpoints bound; ``stop`` drains and closes everything."""

    engine: Engine
    token: str | None
    """What remote clients must send (``None``: no token configured or needed)."""
    token_file: Path | None
    """The token file to point the user at (only when one was read or generated)."""
    connections: ConnectionCap | None = None
    """The connection budget every endpoint shares (``open`` of ``limit``)."""

    @property
    def endpoints(self) -> list[tuple[str, str]]:
        """``(kind, address)`` of every listening endpoint, real ports included."""
        return list(self.engine.endpoints)

    async def stop(self, timeout: float = 10.0) -> StopReport:
        """Stop accepting, drain the queue within ``timeout`` seconds, close the store."""
        return await self.engine.stop(timeout)


async def start_server(
    settings: Settings,
    *,
    http_options: HttpOptions | None = None,
    opened: Callable[[Engine], Awaitable[None]] | None = None,
) -> RunningServer:
    """Tune the process, open the engine and bind every endpoint ``settings`` ask for.

    Raises ``StartupError`` or ``StoreError`` with a one-line reason, after stopping
    whatever had already started. ``http_options`` tunes HTTP timeouts (tests).

    ``opened`` is awaited as soon as the store is open and readable, before the facet
    counts are read and before anything binds: the UI paints the newest events there,
    so over a large store they are on screen before the slow part of start-up (the
    counts read every event once; the HTTP endpoint loads aiohttp). Nothing is written
    meanwhile (no endpoint is bound yet), so the counts read afterwards are exact.
    """
    soft_limit = tune_process()
    engine = Engine(settings)
    try:
        await engine.open_store(count_facets=opened is None)
        if opened is not None:
            await opened(engine)
            await engine.recount_facets()
        # Imported here, after the paint step: the endpoints are not needed to show the store.
        from sidelog.ingest.accept import ConnectionCap, default_max_connections
        from sidelog.ingest.tcp import start_socket_servers
        from sidelog.ingest.tls import server_context
        from sidelog.ingest.tokens import load_token_table

        cap = ConnectionCap(settings.max_connections or default_max_connections(soft_limit))
        # Before any bind: a remote client must never meet an endpoint without a token.
        remote = ensure_token(settings) if needs_token(settings) else None
        token = remote.value if remote is not None else settings.token
        tokens = load_token_table(token, settings.tokens_file)  # named and read-only clients
        cert, key = settings.tls_cert, settings.tls_key
        tls = server_context(cert, key) if cert is not None and key is not None else None
        for listener in await start_socket_servers(engine, settings, token=token, tokens=tokens, cap=cap):
            engine.add_endpoint(listener)
        if settings.http_endpoint is not None:
            # Deferred: aiohttp is only loaded when the HTTP endpoint is on.
            from sidelog.ingest.http import start_http_server

            engine.add_endpoint(
                await start_http_server(
                    engine, settings, token=token, tokens=tokens, options=http_options, cap=cap, tls=tls
                )
            )
        if settings.forward:  # deferred like HTTP: aiohttp's client only when forwarding
            from sidelog.forward.destination import parse_destinations
            from sidelog.forward.forwarder import start_forwarders

            start_forwarders(engine, parse_destinations(settings.forward))
        engine.announce_started()
    except BaseException:
        await engine.stop(timeout=2.0)
        raise
    return RunningServer(
        engine=engine, token=token, token_file=remote.file if remote is not None else None, connections=cap
    )


# ------------------------------------------------------------- process settings


def tune_process() -> int:
    """Apply the process-wide settings a server wants (idempotent); return the soft open-file limit."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    tune_collector()
    return raise_open_file_limit()


def raise_open_file_limit() -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return the soft limit now in force.

    Every client connection costs a descriptor, and the usual soft limit (1024) is
    far below what a flood of clients, or many apps at once, open. Failing to raise
    it is not an error: sidelog runs with what it has.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = resource.RLIM_INFINITY
    targets = (hard,) if hard != unlimited else _UNBOUNDED_NOFILE_TARGETS
    for target in targets:
        if soft == unlimited or target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        return target
    return soft


# ------------------------------------------------------------------------ token


def needs_token(settings: Settings) -> bool:
    """Whether any endpoint binds a non-loopback address (its clients then need the token)."""
    return any(
        endpoint is not None and not endpoint.is_loopback
        for endpoint in (settings.tcp_endpoint, settings.http_endpoint)
    )


def token_path(settings: Settings) -> Path:
    """Where the generated remote-access token is kept: ``token`` beside the database."""
    return settings.db.parent / "token"


def ensure_token(settings: Settings) -> RemoteToken:
    """The token for a non-loopback bind: ``SIDELOG_TOKEN``, else the token file.

    The file is read, or generated with mode 0600 beside the database, so the token
    survives restarts and only this user can read it; ``serve`` prints its path so
    the user knows where to find it. Idempotent. Raises ``StartupError``.
    """
    if settings.token:
        return RemoteToken(settings.token, None)
    path = token_path(settings)
    try:
        return RemoteToken(_read_or_create_token(path), path)
    except OSError as exc:
        raise StartupError(f"cannot create the token file {path}: {startup_reason(exc)}") from None


def _read_or_create_token(path: Path) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        token = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
        log.info("generated a remote-access token in %s", path)
        return token
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)
    token = path.read_text().strip()
    if not token:
        raise StartupError(f"the token file {path} is empty; delete it to generate a new token")
    return token
