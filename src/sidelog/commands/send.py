"""``sidelog send``: one event over TCP, acknowledged with a sync line."""

from __future__ import annotations

import json
import socket
from typing import Any

from sidelog.commands.common import CommandError, auth_line, client_address, client_token, connect_error
from sidelog.config import Endpoint
from sidelog.events import EventError, normalize_level


def build_event(
    message: str,
    *,
    category: str | None,
    level: str | None,
    details: str | None,
    user: str | None,
    session: str | None,
    source: str | None,
) -> dict[str, Any]:
    """The wire object for ``send``'s arguments; raises ``CommandError`` on bad ones."""
    event: dict[str, Any] = {"message": message}
    if not message.strip():
        raise CommandError("invalid MESSAGE: it must not be empty")
    if category is not None:
        event["category"] = category
    if level is not None:
        try:
            event["type"] = normalize_level(level, "--level")
        except EventError as exc:
            raise CommandError(f"invalid {exc}") from None
    if details is not None:
        try:
            event["details"] = json.loads(details)
        except ValueError as exc:
            raise CommandError(f"invalid --details: not JSON ({exc})") from None
    for key, value in (("userId", user), ("sessionId", session), ("source", source)):
        if value is not None:
            event[key] = value
    return event


def send_events(
    endpoint: Endpoint, events: list[dict[str, Any]], timeout: float = 10.0, *, token: str | None = None
) -> dict[str, Any]:
    """Send events and a sync line (after ``token``'s auth line); return the sync reply.

    Raises ``CommandError``.
    """
    payload = auth_line(token)
    payload += b"".join(json.dumps(e).encode() + b"\n" for e in events) + b'{"sync": true}\n'
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        raise CommandError(f"no acknowledgement from {endpoint} within {timeout:g} s") from None
    except OSError as exc:
        raise connect_error(endpoint, exc) from None
    replies = [json.loads(line) for line in data.splitlines() if line.strip()]
    errors = [reply for reply in replies if "error" in reply]
    if errors:
        raise CommandError(f"rejected: {errors[0]['error']}")
    acks = [reply for reply in replies if "ok" in reply]
    if not acks:
        raise CommandError(f"{endpoint} closed the connection without an acknowledgement")
    ack: dict[str, Any] = acks[-1]
    return ack


def run_send(message: str, *, to: str | None, token: str | None = None, **fields: str | None) -> str:
    """Send one event (with ``--token`` or ``SIDELOG_TOKEN``); return the line to print."""
    event = build_event(message, **fields)
    endpoint = client_address(to)
    reply = send_events(endpoint, [event], token=client_token(token))
    if reply.get("stored", 0) < 1:
        dropped = ", ".join(f"{k}={v}" for k, v in reply.items() if k not in ("ok", "stored"))
        raise CommandError(f"accepted but not stored ({dropped or 'filtered by settings'})")
    return f"stored 1 event at {endpoint}"
