"""Helpers shared by the client-side commands (``send``, ``demo``, ``tail``, ``prune``…).

Each finds the server's address (``--to``, else an environment variable) and the
token a remote server asks for (``--token``, else ``SIDELOG_TOKEN``; README "Sharing
one server"). HTTP addresses may be written ``https://HOST:PORT`` for a server with
``--tls-cert``; a self-signed certificate is trusted through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import json
import os

from sidelog.config import Endpoint, parse_endpoint

DEFAULT_ADDRESS = "127.0.0.1:7411"


class CommandError(RuntimeError):
    """A command failed in an expected way; the message is the one line to show."""


def client_address(value: str | None) -> Endpoint:
    """The server address from ``--to``, else ``SIDELOG_ADDRESS``, else the default."""
    return command_address(value, "SIDELOG_ADDRESS", DEFAULT_ADDRESS, off="'off' is not an address")


def client_token(value: str | None) -> str | None:
    """The token to present: ``--token``, else ``SIDELOG_TOKEN``, else none."""
    token = value if value is not None else os.environ.get("SIDELOG_TOKEN")
    return token.strip() or None if token is not None else None


def auth_line(token: str | None) -> bytes:
    """The first line a TCP client sends to authenticate (nothing without a token)."""
    return json.dumps({"auth": token}).encode() + b"\n" if token else b""


def bearer_headers(token: str | None) -> dict[str, str]:
    """The ``Authorization`` header an HTTP request carries (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def split_scheme(text: str) -> tuple[str, str]:
    """``https://h:1`` → ``("https", "h:1")``; no scheme means ``http``. ``CommandError``
    for a scheme other than http or https (the TCP commands take none)."""
    scheme, sep, rest = text.strip().partition("://")
    if not sep:
        return "http", text
    if scheme.lower() not in ("http", "https"):
        raise CommandError(f"invalid address {text!r}: use HOST:PORT, http://HOST:PORT or https://HOST:PORT")
    return scheme.lower(), rest.rstrip("/")


def command_address(value: str | None, env: str, default: str, *, off: str) -> Endpoint:
    """An address from ``--to``, else the environment variable ``env``, else ``default``.

    ``off`` says why ``off`` is no address here; every failure is a ``CommandError``
    naming both places the value may have come from.
    """
    text = value or os.environ.get(env) or default
    try:
        endpoint = parse_endpoint(text, default_host="127.0.0.1")
    except ValueError as exc:
        raise CommandError(f"invalid address (--to / {env}): {exc}") from None
    if endpoint is None:
        raise CommandError(f"invalid address (--to / {env}): {off}")
    return endpoint


def connect_error(endpoint: Endpoint, exc: OSError) -> CommandError:
    """A one-line explanation of a failed connection."""
    reason = exc.strerror.lower() if exc.strerror else str(exc) or type(exc).__name__
    return CommandError(f"cannot connect to {endpoint}: {reason} (is sidelog running?)")
