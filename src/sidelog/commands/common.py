"""Helpers shared by the client-side commands (``send``, ``demo``, ``tail``)."""

from __future__ import annotations

import os

from sidelog.config import Endpoint, parse_endpoint

DEFAULT_ADDRESS = "127.0.0.1:7411"


class CommandError(RuntimeError):
    """A command failed in an expected way; the message is the one line to show."""


def client_address(value: str | None) -> Endpoint:
    """The server address from ``--to``, else ``SIDELOG_ADDRESS``, else the default."""
    return command_address(value, "SIDELOG_ADDRESS", DEFAULT_ADDRESS, off="'off' is not an address")


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
