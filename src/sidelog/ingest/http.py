"""The HTTP API (README "HTTP API") on aiohttp, on the engine's own event loop.

This module builds the application and owns its lifecycle; the routes live in
``http_routes`` and ``http_stream``, the request checks in ``http_security``, body
handling in ``http_body``. Two middlewares wrap every route, known or not:

* ``_json_errors`` turns every refusal into ``{"error": reason}`` with its status,
  including aiohttp's own 404/405;
* ``_guard`` checks ``Host``, ``Origin`` and (on a remote bind) the bearer token
  before any handler runs or any body is read, and answers CORS preflights; on the
  routes that change state (``http_routes.STATE_CHANGING``) it also requires a JSON
  body and refuses cross-site browser requests (``http_security.check_state_change``).

An ``on_response_prepare`` hook adds the CORS headers for an allowed origin to every
answer, streams included, and ``nosniff`` so no answer is ever run as a script.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler

from sidelog.errors import StartupError, startup_reason
from sidelog.ingest.accept import (
    HTTP_RESERVE,
    Acceptor,
    ConnectionCap,
    bind_sockets,
    default_max_connections,
    http_refusal,
    socket_address,
)
from sidelog.ingest.http_body import BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S
from sidelog.ingest.http_identity import TOKENS, acting_as, with_client_names
from sidelog.ingest.http_refusals import record_refusals
from sidelog.ingest.http_routes import ENGINE, SCRIPT, STATE_CHANGING, TOKEN, add_routes, json_response
from sidelog.ingest.http_security import (
    ALLOWED_METHODS,
    AccessPolicy,
    ApiError,
    check_read_only,
    check_state_change,
    preflight_headers,
)
from sidelog.ingest.http_stream import STREAM_OPTIONS, STREAMS, StreamClient, StreamOptions, stream
from sidelog.ingest.http_wire import wire_logger
from sidelog.ingest.tokens import Identity, TokenTable

if TYPE_CHECKING:
    from sidelog.config import Settings
    from sidelog.ingest.sink import EngineAPI

__all__ = ["HttpListener", "HttpOptions", "build_app", "start_http_server"]

SCRIPT_PATH = Path(__file__).resolve().parent.parent / "static" / "sidelog.js"
"""The JavaScript client served at ``/sidelog.js`` (shipped inside the package)."""

POLICY: web.AppKey[AccessPolicy] = web.AppKey("sidelog_policy", AccessPolicy)
CORS_ORIGIN: web.RequestKey[str] = web.RequestKey("sidelog_cors_origin", str)

_ROUTE_HINT = (
    "routes: POST/GET /v1/events, GET /v1/errors, POST /v1/errors/{fingerprint}/resolve|reopen|snooze|wake, "
    "POST /v1/prune, POST /v1/vacuum, GET /v1/health, GET /v1/stream, GET /sidelog.js"
)


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Server tuning that is not a user setting (tests shorten the timeouts)."""

    keepalive_timeout_s: float = 15.0
    """An idle connection, or one that never sends a request, is closed after this."""
    shutdown_timeout_s: float = 3.0
    """How long ``stop`` waits for requests in flight."""
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    """How long a request body may take to arrive (then 408 and the connection closes)."""
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
        if exc.status in (408, 413):
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


def _check_access(request: web.Request) -> tuple[str | None, Identity | None]:
    """Token, Host, Origin, read-only (and state-change) checks.

    Returns the (allowed) Origin, if any, and who the bearer token names.
    """
    policy = request.app[POLICY]
    tokens = request.app[TOKENS]
    authorization = request.headers.get("Authorization")
    if request.method != "OPTIONS" and request.path != "/sidelog.js":
        peer = request.transport.get_extra_info("peername") if request.transport else None
        peer_host = str(peer[0]) if isinstance(peer, tuple) else None
        identity = policy.authenticate(authorization, peer_host, tokens)
    else:
        identity = tokens.match_bearer(authorization)
    if identity is None:
        policy.check_host(request.headers.get("Host"))
    origin = request.headers.get("Origin")
    policy.check_origin(origin)
    check_read_only(identity, request.method, request.path)
    if request.method == "POST" and request.match_info.handler in STATE_CHANGING:
        check_state_change(request.headers, f"POST {request.path[:120]}")
    return origin, identity


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin, identity = _check_access(request)
    if origin is not None:
        request[CORS_ORIGIN] = origin
    if request.method == "OPTIONS":
        return _preflight(request, origin)
    if identity is None or identity.name is None:
        return await handler(request)
    with acting_as(identity.name):  # its events carry details.client (http_identity.py)
        return await handler(request)


async def _expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue``: refuse before the client sends the body, or invite it.

    aiohttp runs this before the middlewares, so the checks are repeated here.
    """
    try:
        _check_access(request)
        limit = request.app[ENGINE].limits.max_line_bytes
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


def build_app(
    api: EngineAPI,
    settings: Settings,
    options: HttpOptions | None = None,
    *,
    token: str | None = None,
    tokens: TokenTable | None = None,
) -> web.Application:
    """The aiohttp application over ``api`` (not yet listening).

    ``token`` is what a remote client's ``Authorization: Bearer`` must carry; on a
    loopback bind it is optional (it then also stands in for the ``Host`` check).
    ``tokens``, when given, is every accepted token (the shared one and the tokens
    file's named and read-only ones) and replaces ``token``.
    """
    options = options or HttpOptions()
    table = tokens if tokens is not None else TokenTable(token)
    api = with_client_names(api, table)
    endpoint = settings.http_endpoint
    bind_host = endpoint.host if endpoint is not None else "127.0.0.1"
    app = web.Application(middlewares=[record_refusals, _json_errors, _guard])
    app[ENGINE] = api
    app[TOKEN] = token
    app[TOKENS] = table
    app[POLICY] = AccessPolicy.build(
        bind_host=bind_host,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
        remote=endpoint is not None and not endpoint.is_loopback,
    )
    app[SCRIPT] = SCRIPT_PATH.read_bytes()
    app[STREAM_OPTIONS] = options.stream
    app[BODY_TIMEOUT] = options.body_timeout_s
    streams: set[StreamClient] = set()
    app[STREAMS] = streams
    add_routes(app, _expect_continue)
    app.router.add_get("/v1/stream", stream, allow_head=False)
    from sidelog.ingest import (  # README
        http_errors,
        http_feedback,
        http_logging,
        http_otlp,
        http_sentry,
        http_snooze,
        http_vacuum,
    )

    http_sentry.register(app, api, settings, _expect_continue)
    http_otlp.register(app, api, settings, _expect_continue)
    http_logging.register(app, _expect_continue)
    http_feedback.register(app, _expect_continue)  # POST /v1/feedback: users' reports
    http_snooze.register(app, _expect_continue)  # snooze and wake error groups
    http_vacuum.register(app, _expect_continue)  # POST /v1/vacuum: give free pages back
    http_errors.register(app)  # GET /v1/errors
    app.on_response_prepare.append(_response_headers)
    return app


class HttpListener:
    """The bound HTTP API (a ``sidelog.ingest.sink.Listener``)."""

    kind = "http"

    def __init__(
        self, address: str, runner: web.AppRunner, streams: set[StreamClient], acceptors: list[Acceptor]
    ) -> None:
        self.address = address
        self._runner = runner
        self._streams = streams
        self._acceptors = acceptors

    async def close(self) -> None:
        """Stop accepting, end the live streams and let requests in flight finish (bounded)."""
        for acceptor in self._acceptors:
            acceptor.close()
        for client in list(self._streams):
            client.close()
        await self._runner.cleanup()

    async def wait_closed(self) -> None:
        """Nothing left to wait for: ``close`` already released the sockets."""


async def start_http_server(
    api: EngineAPI,
    settings: Settings,
    *,
    token: str | None = None,
    tokens: TokenTable | None = None,
    options: HttpOptions | None = None,
    cap: ConnectionCap | None = None,
    tls: ssl.SSLContext | None = None,
) -> HttpListener:
    """Listen on ``settings.http`` (port 0 picks a free port: see ``HttpListener.address``).

    The sockets are created and bound here, and the address is read from them, so
    a start-up that runs out of file descriptors (a connection flood) fails with a
    one-line ``StartupError`` instead of an aiohttp site listening nowhere.

    Connections are accepted by ``sidelog.ingest.accept`` rather than an aiohttp site:
    within ``cap`` (shared with the sockets; ``sidelog.server`` makes it) plus
    ``HTTP_RESERVE``, so ``GET /v1/health`` answers while socket clients hold every
    slot. An idle connection, or one that never finishes its request, is closed after
    ``keepalive_timeout_s``, so none holds a slot for long. With ``tls`` every
    connection is HTTPS (sidelog/ingest/tls.py).
    """
    endpoint = settings.http_endpoint
    if endpoint is None:
        raise StartupError("the HTTP endpoint is off (SIDELOG_HTTP=off)")
    options = options or HttpOptions()
    cap = cap or ConnectionCap(settings.max_connections or default_max_connections())
    sockets = await bind_sockets("http", endpoint)
    address = socket_address(sockets[0])
    runner: web.AppRunner | None = None
    acceptors: list[Acceptor] = []
    try:
        # build_app reads sidelog.js: a descriptor too
        app = build_app(api, settings, options, token=token, tokens=tokens)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            logger=wire_logger(api.counters.refusals),
            keepalive_timeout=options.keepalive_timeout_s,
            auto_decompress=False,
            shutdown_timeout=options.shutdown_timeout_s,
        )
        await runner.setup()
        server = runner.server
        assert server is not None  # set by setup()
        for sock in sockets:
            acceptor = Acceptor(
                sock,
                server,
                cap,
                api.counters,
                name=f"http {address}",
                refusal=http_refusal(cap) if tls is None else b"",
                reserve=HTTP_RESERVE,
                tls=tls,
            )
            acceptor.start()
            acceptors.append(acceptor)
    except BaseException as exc:
        for acceptor in acceptors:
            acceptor.close()
        if runner is not None:
            await runner.cleanup()
        for sock in sockets:
            sock.close()
        if isinstance(exc, OSError):
            raise StartupError(f"cannot listen on http {endpoint}: {startup_reason(exc)}") from None
        raise
    return HttpListener(address, runner, app[STREAMS], acceptors)
