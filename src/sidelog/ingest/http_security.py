"""Who may talk to the HTTP API: Host and Origin allowlists, CORS, bearer tokens.

sidelog listens on loopback, but any web page the developer opens can make their
browser send requests to loopback. Three checks keep such pages out:

* ``Host`` must name this machine (or a configured host). A DNS-rebinding page
  reaches 127.0.0.1 under its own name, so its requests carry ``Host: evil.example``.
* ``Origin``, when present, must be a localhost origin (any port) or a configured one.
  Browsers send it on every cross-origin request and on every POST, including the
  "simple" ``text/plain`` requests and ``sendBeacon`` calls that skip CORS preflight,
  so refusing it *before* reading the body means such a page stores nothing.
  ``Origin: null`` (sandboxed frames, ``file:`` pages, redirects) is refused.
* On a non-loopback bind, non-loopback peers must send ``Authorization: Bearer``
  with the shared token or one of the tokens file's (``sidelog.ingest.tokens``).
  A request with a known token may use any ``Host`` (a rebinding page cannot know
  the token), so remote clients can use whatever name reaches the machine. A
  read-only token may only read (``check_read_only``).

CORS answers echo the one allowed origin with ``Vary: Origin``; never ``*``.

Routes that change state rather than add events (resolve, reopen, prune: README "HTTP
API") get a second layer behind the Origin check, ``check_state_change``: they take
only ``Content-Type: application/json``, which no page can send without a CORS
preflight (that the Origin check then refuses), and refuse ``Sec-Fetch-Site:
cross-site``, which browsers set on every request a page from another site makes.
So neither a form, a ``sendBeacon``, nor an Origin-less request from a browser that
strips it can resolve, reopen or prune. ``POST /v1/events`` is not one of them: it
keeps taking ``text/plain`` from ``sendBeacon``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sidelog.config import is_loopback_host
from sidelog.ingest.tokens import Identity, TokenTable

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_REQUEST_HEADERS = frozenset(
    {"content-type", "content-encoding", "authorization", "last-event-id", "cache-control"}
)
PREFLIGHT_MAX_AGE_S = 600
JSON_CONTENT_TYPE = "application/json"
"""The one body type state-changing routes take (not CORS-safelisted: it forces a preflight)."""


class ApiError(Exception):
    """A request the API refuses; becomes ``{"error": reason}`` with ``status``."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def split_host(value: str) -> str:
    """The host part of a ``Host`` header value (``[::1]:7412`` → ``::1``), lower-cased."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        text = host
    return text.rstrip(".")


@functools.lru_cache(maxsize=512)
def _is_local_name(host: str) -> bool:
    """Loopback addresses, ``localhost`` and ``*.localhost`` (RFC 6761: always loopback).

    Cached: every request asks, and clients send the same few names.
    """
    return is_loopback_host(host) or host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The allowlists and token requirement for one HTTP endpoint."""

    extra_hosts: frozenset[str]
    extra_origins: frozenset[str]
    bind_host: str | None
    """A specific non-loopback bind address, accepted as ``Host`` too."""
    require_token: bool
    """True on a non-loopback bind: remote peers must present the token."""

    @classmethod
    def build(
        cls,
        *,
        bind_host: str,
        allowed_hosts: Iterable[str],
        allowed_origins: Iterable[str],
        remote: bool,
    ) -> AccessPolicy:
        """A policy from the settings' lists and the bind address."""
        hosts = frozenset(split_host(h) for h in allowed_hosts if h.strip())
        origins = frozenset(o for o in (normalize_origin(x) for x in allowed_origins) if o)
        specific: str | None = None
        if remote:
            try:
                specific = None if ipaddress.ip_address(bind_host).is_unspecified else bind_host.lower()
            except ValueError:
                specific = bind_host.lower()
        return cls(hosts, origins, specific, remote)

    def check_host(self, header: str | None) -> None:
        """Raise 403 unless ``Host`` names this machine or an allowed host."""
        if not header:
            raise ApiError(403, "missing Host header")
        host = split_host(header)
        if _is_local_name(host) or host in self.extra_hosts or (self.bind_host and host == self.bind_host):
            return
        shown = header if len(header) <= 80 else header[:80] + "…"
        raise ApiError(
            403,
            f"Host {shown!r} is not allowed (only loopback names; add it to SIDELOG_ALLOWED_HOSTS "
            "to allow it) — this blocks DNS-rebinding pages",
        )

    def origin_allowed(self, origin: str) -> bool:
        """Whether a browser page from ``origin`` may use the API."""
        normalized = normalize_origin(origin)
        if normalized is None:
            return False
        if normalized in self.extra_origins:
            return True
        parts = urlsplit(normalized)
        return parts.scheme in ("http", "https") and _is_local_name(parts.hostname or "")

    def check_origin(self, origin: str | None) -> None:
        """Raise 403 for a present ``Origin`` that is not allowed (``null`` included)."""
        if origin is None:
            return
        if origin.strip().lower() == "null":
            raise ApiError(403, "Origin 'null' is not allowed (sandboxed or file: pages cannot log)")
        if not self.origin_allowed(origin):
            shown = origin if len(origin) <= 80 else origin[:80] + "…"
            raise ApiError(
                403,
                f"Origin {shown!r} is not allowed (localhost origins only; add it to "
                "SIDELOG_ALLOWED_ORIGINS to allow it)",
            )

    @staticmethod
    def bearer_matches(authorization: str | None, token: str | None) -> bool:
        """Whether ``Authorization`` carries ``Bearer <token>`` (constant-time compare)."""
        return TokenTable(token).match_bearer(authorization) is not None

    def check_token(self, authorization: str | None, peer_host: str | None, token: str | None) -> None:
        """On a remote bind, raise 401 unless a non-loopback peer sent the right bearer token."""
        self.authenticate(authorization, peer_host, TokenTable(token))

    def authenticate(
        self, authorization: str | None, peer_host: str | None, tokens: TokenTable
    ) -> Identity | None:
        """Who the bearer token says the client is (``None``: no known token).

        On a remote bind a non-loopback peer without a known token gets 401; loopback
        peers, and every peer of a loopback bind, need none (a named token they send
        still names them).
        """
        identity = tokens.match_bearer(authorization)
        if identity is not None or not self.require_token:
            return identity
        if peer_host is not None and is_loopback_host(peer_host):
            return None
        raise ApiError(
            401,
            "authentication required: send 'Authorization: Bearer <token>' (the token is in the "
            "file 'token' beside the database, or one of the tokens file's)",
            {"WWW-Authenticate": 'Bearer realm="sidelog"'},
        )


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""What a read-only token may do: look, never ingest or change state."""
INGEST_GETS = frozenset({"/v1/logging"})
"""Routes that store what a ``GET`` carries (``logging.handlers.HTTPHandler``'s default)."""


def check_read_only(identity: Identity | None, method: str, path: str) -> None:
    """Raise 403 when a read-only token asks for anything but reading."""
    if identity is None or not identity.read_only:
        return
    if method not in READ_METHODS or path.rstrip("/") in INGEST_GETS:
        raise ApiError(
            403,
            f"the token of {identity.name!r} is read-only: {method} {path[:120]} is refused "
            "(it may only GET events, errors, health and the stream)",
        )


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased without a trailing slash, or ``None`` if malformed."""
    text = value.strip().lower().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or parts.path or parts.query or parts.username:
        return None
    return text


def preflight_headers(origin: str, requested_headers: str | None) -> dict[str, str]:
    """The CORS preflight answer for an allowed origin."""
    wanted = [h.strip().lower() for h in (requested_headers or "").split(",") if h.strip()]
    allowed = [h for h in wanted if h in ALLOWED_REQUEST_HEADERS] or ["content-type"]
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ", ".join(allowed),
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        "Vary": "Origin",
    }


def check_state_change(headers: Mapping[str, str], what: str) -> None:
    """Raise 403 for a cross-site browser request, 415 unless the body is declared JSON.

    ``what`` names the route in the reason (``POST /v1/prune``).
    """
    if headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        raise ApiError(
            403, f"{what} refuses cross-site requests (Sec-Fetch-Site: cross-site): a web page cannot use it"
        )
    header = headers.get("Content-Type", "")
    mime, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if mime.strip().lower() != JSON_CONTENT_TYPE or charset not in ("", "utf-8", "utf8"):
        shown = header.strip()[:80] or "none"
        raise ApiError(
            415,
            f"{what} needs Content-Type: application/json (got {shown}); "
            "with curl: -H 'Content-Type: application/json'",
        )
