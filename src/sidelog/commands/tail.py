"""``sidelog tail``: print live events from a running sidelog, over ``GET /v1/stream``.

Plain lines (time, level, category, source, user, message) or ``--json`` lines (the
API's event objects). Event text is sanitised before it reaches the terminal, and
``--json`` output escapes C1/bidi characters, so an event cannot drive the user's
terminal either way. When the server says the client lagged (``event: lagged``),
tail reconnects with ``Last-Event-ID`` and the server replays what was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from typing import Any, TextIO

import orjson

from sidelog.commands.common import CommandError, bearer_headers, client_token, command_address, split_scheme
from sidelog.config import Endpoint
from sidelog.filters import EventFilter
from sidelog.textsafe import json_safe, safe_text

DEFAULT_HTTP_ADDRESS = "127.0.0.1:7412"
_COLORS = {"debug": "\x1b[2m", "info": "\x1b[36m", "warn": "\x1b[33m", "error": "\x1b[1;31m"}
_RESET = "\x1b[0m"


def http_address(value: str | None) -> Endpoint:
    """The server's HTTP address from ``--to``, else ``SIDELOG_HTTP``, else the default.

    A wildcard bind address (``0.0.0.0``, ``::``) is reached through loopback.
    """
    return http_target(value)[1]


def http_target(value: str | None) -> tuple[str, Endpoint]:
    """``(scheme, endpoint)`` of ``http_address``; ``https://HOST:PORT`` selects TLS."""
    scheme, text = split_scheme(value or os.environ.get("SIDELOG_HTTP") or DEFAULT_HTTP_ADDRESS)
    endpoint = command_address(text, "SIDELOG_HTTP", DEFAULT_HTTP_ADDRESS, off="the HTTP API is 'off'")
    if endpoint.host in ("0.0.0.0", "::"):
        endpoint = Endpoint("127.0.0.1" if endpoint.host == "0.0.0.0" else "::1", endpoint.port)
    return scheme, endpoint


def format_plain(event: dict[str, Any], color: bool = False) -> str:
    """One event as a terminal line; every piece of event text is sanitised."""
    timestamp = event.get("timestamp")
    when = (
        datetime.fromtimestamp(timestamp / 1000).strftime("%H:%M:%S.%f")[:-3]
        if isinstance(timestamp, int | float)
        else "--:--:--.---"
    )
    level = str(event.get("type", "info"))
    shown_level = safe_text(level.upper()).ljust(5)
    if color and level in _COLORS:
        shown_level = _COLORS[level] + shown_level + _RESET
    fields = [
        safe_text(str(event.get("category") or "-"))[:40].ljust(10),
        safe_text(str(event.get("source") or "-"))[:20].ljust(10),
        safe_text(str(event.get("userId") or "-"))[:40],
        safe_text(str(event.get("message", ""))),
    ]
    return f"{when} {shown_level} " + " ".join(fields)


class _Output:
    """Writes lines to stdout; a closed pipe (``tail | head``) ends tail quietly."""

    def __init__(self, stream: TextIO, as_json: bool) -> None:
        self._stream = stream
        self._json = as_json
        self._color = not as_json and stream.isatty() and "NO_COLOR" not in os.environ
        self.closed = False

    def events(self, payloads: list[bytes]) -> None:
        lines: list[str] = []
        for payload in payloads:
            if self._json:
                lines.append(json_safe(payload.decode("utf-8", "replace")))
            else:
                try:
                    event = orjson.loads(payload)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(event, dict):
                    lines.append(format_plain(event, self._color))
        if not lines:
            return
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except BrokenPipeError:
            self.closed = True


async def _follow(
    endpoint: Endpoint,
    params: list[tuple[str, str]],
    out: _Output,
    *,
    scheme: str = "http",
    token: str | None = None,
) -> int:
    import aiohttp

    url = f"{scheme}://{endpoint}/v1/stream"
    timeout = aiohttp.ClientTimeout(total=None, connect=5, sock_connect=5, sock_read=90)
    last_id: str | None = None
    connected = False
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            headers = {"Accept": "text/event-stream", **bearer_headers(token)}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                async with session.get(url, params=params, headers=headers) as response:
                    if response.status != 200:
                        raise CommandError(f"{endpoint} refused the stream: {await _reason(response)}")
                    connected = True
                    outcome, last_id = await _read_stream(response.content, out, last_id)
            except aiohttp.ClientConnectorError as exc:
                if connected:
                    raise CommandError(f"lost the connection to {endpoint} (sidelog stopped?)") from None
                reason = exc.os_error.strerror.lower() if exc.os_error.strerror else str(exc.os_error)
                raise CommandError(f"cannot connect to {endpoint}: {reason} (is sidelog running?)") from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                if out.closed:
                    return 0
                detail = str(exc) or type(exc).__name__
                raise CommandError(f"lost the connection to {endpoint}: {detail}") from None
            if out.closed:
                return 0
            if outcome != "lagged":
                raise CommandError(f"{endpoint} closed the stream (sidelog stopped?)")


async def _read_stream(content: Any, out: _Output, last_id: str | None) -> tuple[str, str | None]:
    """Parse server-sent events; returns ``("lagged"|"closed", last id seen)``.

    Reads whatever has arrived (``readany``) and writes all complete events of it in
    one go, so a busy stream costs one write per network read, not one per event.
    """
    buffer = b""
    data: list[bytes] = []
    event_name = b""
    event_id: str | None = None
    while True:
        chunk = await content.readany()
        if not chunk:
            return "closed", last_id
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        ready: list[bytes] = []
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                if event_name == b"lagged":
                    out.events(ready)
                    return "lagged", last_id
                if data:
                    ready.append(b"\n".join(data))
                    if event_id is not None:
                        last_id = event_id  # only once the whole event has arrived
                data, event_name, event_id = [], b"", None
            elif line.startswith(b":"):
                continue
            else:
                name, _, value = line.partition(b":")
                value = value[1:] if value.startswith(b" ") else value
                if name == b"data":
                    data.append(value)
                elif name == b"id":
                    event_id = value.decode("ascii", "replace")
                elif name == b"event":
                    event_name = value
        out.events(ready)
        if out.closed:
            return "closed", last_id


async def _reason(response: Any) -> str:
    try:
        body = await response.json(content_type=None)
        return f"HTTP {response.status}: {body.get('error')}"
    except Exception:
        return f"HTTP {response.status}"


def run_tail(args: argparse.Namespace, params: list[tuple[str, str]]) -> int:
    """Follow the live stream until interrupted; 1 with one line if sidelog is unreachable."""
    try:
        EventFilter.from_params(params)
    except ValueError as exc:
        raise CommandError(f"invalid filter: {exc}") from None
    scheme, endpoint = http_target(getattr(args, "to", None))
    token = client_token(getattr(args, "client_token", None))
    out = _Output(sys.stdout, bool(getattr(args, "json", False)))
    code = asyncio.run(_follow(endpoint, params, out, scheme=scheme, token=token))
    if out.closed:
        # Python would report the broken pipe again when flushing at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return code
