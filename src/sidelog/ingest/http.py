"""The HTTP API (SPEC section 5) on aiohttp, on the engine's own event loop.

This module builds the application and owns its lifecycle; the routes live in
``http_routes`` and ``http_stream``, the request checks in ``http_security``, body
handling in ``http_body``. Two middlewares wrap every route, known or not:

* ``_json_errors`` turns every refusal into ``{"error": reason}`` with its status,
  including aiohttp's own 404/405;
* ``_guard`` checks ``Host``, ``Origin`` and (on a remote bind) the bearer token
  before any handler runs or any body is read, and answers CORS preflights.

An ``on_response_prepare`` hook adds the CORS headers for an allowed origin to every
answer, streams included, and ``nosniff`` so no answer is ever run as a script.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from sidelog.engine import Engine
from sidelog.ingest.http_routes import ENGINE, SCRIPT, add_routes, json_response
from sidelog.ingest.http_security import ALLOWED_METHODS, AccessPolicy, ApiError, preflight_headers
from sidelog.ingest.http_stream import STREAM_OPTIONS, STREAMS, StreamClient, StreamOptions, stream
from sidelog.ingest.tcp import StartupError, startup_reason

log = logging.getLogger(__name__)

SCRIPT_PATH = Path(__file__).resolve().parent.parent / "client" / "sidelog.js"
"""The JavaScript client served at ``/sidelog.js`` (shipped inside the package)."""

POLICY: web.AppKey[AccessPolicy] = web.AppKey("sidelog_policy", AccessPolicy)
CORS_ORIGIN: web.RequestKey[str] = web.RequestKey("sidelog_cors_origin", str)

_ROUTE_HINT = (
    "routes: POST/GET /v1/events, GET /v1/errors, POST /v1/errors/{fingerprint}/resolve|reopen, "
    "GET /v1/health, GET /v1/stream, GET /sidelog.js"
)


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Server tuning that is not a user setting (tests shorten the timeouts)."""

    keepalive_timeout_s: float = 15.0
    """An idle connection, or one that never sends a request, is closed after this."""
    shutdown_timeout_s: float = 3.0
    """How long ``stop`` waits for requests in flight."""
    stream: StreamOptions = field(default_factory=StreamOptions)


# ------------------------------------------------------------------ middlewares


def _error(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": reason}, status=status, headers=headers)


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        response = _error(exc.status, exc.reason, exc.headers)
        if exc.status == 413:
            response.force_close()  # the unread rest of the body must not be parsed as a request
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers: dict[str, str] = {}
        if isinstance(exc, web.HTTPMethodNotAllowed):
            allowed = ", ".join(sorted(exc.allowed_methods | {"OPTIONS"}))
            headers["Allow"] = allowed
            reason = f"method {request.method} is not allowed on {request.path} (use {allowed})"
        elif exc.status == 404:
            reason = f"no such route: {request.method} {request.path[:200]} ({_ROUTE_HINT})"
        else:
            reason = exc.reason
        return _error(exc.status, reason, headers)


def _check_access(request: web.Request) -> str | None:
    """Token, Host and Origin checks; returns the (allowed) Origin, if any."""
    policy = request.app[POLICY]
    token = request.app[ENGINE].token
    authorization = request.headers.get("Authorization")
    if request.method != "OPTIONS" and request.path != "/sidelog.js":
        peer = request.transport.get_extra_info("peername") if request.transport else None
        peer_host = str(peer[0]) if isinstance(peer, tuple) else None
        policy.check_token(authorization, peer_host, token)
    if not policy.bearer_matches(authorization, token):
        policy.check_host(request.headers.get("Host"))
    origin = request.headers.get("Origin")
    policy.check_origin(origin)
    return origin


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = _check_access(request)
    if origin is not None:
        request[CORS_ORIGIN] = origin
    if request.method == "OPTIONS":
        return _preflight(request, origin)
    return await handler(request)


async def _expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue``: refuse before the client sends the body, or invite it.

    aiohttp runs this before the middlewares, so the checks are repeated here.
    """
    try:
        _check_access(request)
        limit = request.app[ENGINE].settings.max_line_bytes
        if request.content_length is not None and request.content_length > limit:
            raise ApiError(413, f"body larger than {limit} bytes (SIDELOG_MAX_LINE_BYTES)")
        if request.headers.get("Expect", "").lower() != "100-continue":
            raise ApiError(417, "only 'Expect: 100-continue' is supported")
    except ApiError as exc:
        response = _error(exc.status, exc.reason, exc.headers)
        response.force_close()
        return response
    if request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
    return None


def _preflight(request: web.Request, origin: str | None) -> web.Response:
    failure = request.match_info.http_exception
    if failure is not None and failure.status == 404:
        raise failure
    if origin is None:
        return web.Response(status=204, headers={"Allow": ALLOWED_METHODS})
    headers = preflight_headers(origin, request.headers.get("Access-Control-Request-Headers"))
    if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
        headers["Access-Control-Allow-Private-Network"] = "true"
    return web.Response(status=204, headers=headers)


async def _response_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    origin = request.get(CORS_ORIGIN)
    if origin is not None and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"


# ---------------------------------------------------------------- application


def build_app(engine: Engine, options: HttpOptions | None = None) -> web.Application:
    """The aiohttp application for ``engine`` (not yet listening)."""
    options = options or HttpOptions()
    settings = engine.settings
    endpoint = settings.http_endpoint
    bind_host = endpoint.host if endpoint is not None else "127.0.0.1"
    app = web.Application(middlewares=[_json_errors, _guard])
    app[ENGINE] = engine
    app[POLICY] = AccessPolicy.build(
        bind_host=bind_host,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
        remote=endpoint is not None and not endpoint.is_loopback,
    )
    app[SCRIPT] = SCRIPT_PATH.read_bytes()
    app[STREAM_OPTIONS] = options.stream
    streams: set[StreamClient] = set()
    app[STREAMS] = streams
    add_routes(app, _expect_continue)
    app.router.add_get("/v1/stream", stream, allow_head=False)
    app.on_response_prepare.append(_response_headers)
    return app


async def start_http_server(engine: Engine, options: HttpOptions | None = None) -> None:
    """Listen on ``settings.http`` and register the endpoint with the engine.

    Port 0 picks a free port (the real one is in ``engine.endpoints``). A
    non-loopback bind makes sure a token exists first (see ``ensure_token``).
    Raises ``StartupError`` with a one-line reason when the address cannot be bound.
    """
    endpoint = engine.settings.http_endpoint
    if endpoint is None:
        return
    options = options or HttpOptions()
    if not endpoint.is_loopback:
        ensure_token(engine)
    app = build_app(engine, options)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=options.keepalive_timeout_s,
        auto_decompress=False,
        shutdown_timeout=options.shutdown_timeout_s,
    )
    await runner.setup()
    site = web.TCPSite(runner, endpoint.host, endpoint.port, backlog=1024, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(f"cannot listen on http {endpoint}: {startup_reason(exc)}") from None
    host, port = runner.addresses[0][:2]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    streams: set[StreamClient] = app[STREAMS]

    async def close() -> None:
        for client in list(streams):
            client.close()
        await runner.cleanup()

    engine.add_server("http", address, None, close)


# ---------------------------------------------------------------------- token


def token_path(engine: Engine) -> Path:
    """Where the generated remote-access token is kept: ``token`` beside the database."""
    return engine.settings.db.parent / "token"


def ensure_token(engine: Engine) -> Path | None:
    """Make sure ``engine.token`` is set for a non-loopback bind; return the token file.

    A configured ``SIDELOG_TOKEN`` wins (returns ``None``: nothing to point at).
    Otherwise the token is read from, or generated into, a 0600 file beside the
    database, so it survives restarts and only this user can read it. Callers
    print the returned path so the user knows where to find it. Idempotent.
    """
    if engine.settings.token:
        engine.token = engine.settings.token
        return None
    path = token_path(engine)
    if engine.token is None:
        try:
            engine.token = _read_or_create_token(path)
        except OSError as exc:
            raise StartupError(f"cannot create the token file {path}: {startup_reason(exc)}") from None
    return path


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
