"""What the Python client reads from the environment: the logging toggles and the address.

The client runs inside the developer's app, so it must not pull in pydantic (the
server's settings stack) and must never raise over a bad value: a value it cannot
use is reported once on stderr and the default is kept. Names and precedence match
the server's: ``SIDELOG_<NAME>`` beats the bare ``<NAME>``; the process
environment beats ``.env.local``, which beats ``.env`` (both read from the current
directory when the logger is created, never at import).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping

# The level tables live in levels.py (the client's copy of the server's); re-exported here.
from sidelog_client.levels import LEVEL_ALIASES as LEVEL_ALIASES
from sidelog_client.levels import LEVEL_RANK as LEVEL_RANK
from sidelog_client.levels import LEVELS as LEVELS

DEFAULT_ADDRESS = "127.0.0.1:7411"

_Lookup = Callable[[str], "str | None"]
_SERVER_SOURCES = frozenset({"server", "middleware", "api"})
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})


class Address:
    """Where the client sends events: a TCP host and port, or a Unix socket path."""

    __slots__ = ("host", "port", "unix_path")

    def __init__(self, host: str = "127.0.0.1", port: int = 7411, unix_path: str | None = None) -> None:
        self.host = host
        self.port = port
        self.unix_path = unix_path

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        return (self.host, self.port, self.unix_path) == (other.host, other.port, other.unix_path)

    def __hash__(self) -> int:
        return hash((self.host, self.port, self.unix_path))

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"

    def __str__(self) -> str:
        if self.unix_path is not None:
            return f"unix:{self.unix_path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(text: str) -> Address | None:
    """Parse ``HOST:PORT``, ``:PORT``, ``[v6]:PORT``, ``unix:/path`` or ``off`` (``None``).

    Raises ``ValueError`` with a readable reason for anything else.
    """
    value = text.strip()
    if value.lower() == "off":
        return None
    if value.startswith("unix:"):
        path = value[5:]
        if not path:
            raise ValueError(f"{text!r} names no socket path")
        return Address(unix_path=path)
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
    else:
        host, sep, port_text = value.rpartition(":")
    if not sep:
        raise ValueError(f"{text!r} is not HOST:PORT, unix:/path or off")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{text!r} is not HOST:PORT (the port must be a number)") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r} has port {port}; ports are 1 to 65535")
    return Address(host or "127.0.0.1", port)


_DEFAULT = Address()


class ClientConfig:
    """The client's settings, resolved from the environment (see ``load_client_config``).

    ``ClientConfig()`` is the defaults, ignoring the environment. A plain class (not a
    dataclass) because ``dataclasses`` alone would double the client's import time.
    """

    __slots__ = (
        "address",
        "enable_event_logging",
        "enable_server_logging",
        "enable_client_logging",
        "log_level",
        "batch_events",
        "max_events_per_batch",
        "batch_interval_ms",
        "buffer_size",
        "token",
        "slow_request_ms",
    )

    def __init__(
        self,
        *,
        address: Address | None = _DEFAULT,
        enable_event_logging: bool = True,
        enable_server_logging: bool = True,
        enable_client_logging: bool = True,
        log_level: str = "debug",
        batch_events: bool = True,
        max_events_per_batch: int = 500,
        batch_interval_ms: int = 50,
        buffer_size: int = 50_000,
        token: str | None = None,
        slow_request_ms: int = 1000,
    ) -> None:
        self.address = address
        """``None`` when ``SIDELOG_ADDRESS=off``: every call is then a no-op."""
        self.enable_event_logging = enable_event_logging
        """The master switch (``ENABLE_EVENT_LOGGING``)."""
        self.enable_server_logging = enable_server_logging
        """Send server, middleware and api events (``ENABLE_SERVER_LOGGING``)."""
        self.enable_client_logging = enable_client_logging
        """Send ``source="client"`` events (``ENABLE_CLIENT_LOGGING``)."""
        self.log_level = log_level
        """Minimum level sent (``LOG_LEVEL``); lower calls return at once."""
        self.batch_events = batch_events
        """When false every event is sent as soon as it is logged (``BATCH_EVENTS``)."""
        self.max_events_per_batch = max_events_per_batch
        """Send once this many events are waiting (``MAX_EVENTS_PER_BATCH``)."""
        self.batch_interval_ms = batch_interval_ms
        """Send once the oldest waiting event is this old (``BATCH_INTERVAL_MS``)."""
        self.buffer_size = buffer_size
        """Unacknowledged events kept while sidelog is slow or down (``SIDELOG_CLIENT_BUFFER``)."""
        self.token = token
        """Sent as ``{"auth": …}`` first, for a sidelog on a non-loopback address (``SIDELOG_TOKEN``)."""
        self.slow_request_ms = slow_request_ms
        """Requests this slow are logged as warnings by the middleware (``SIDELOG_SLOW_REQUEST_MS``)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ClientConfig({fields})"

    def enabled_for(self, source: str) -> bool:
        """Whether the toggles let events from ``source`` through at all."""
        if not self.enable_event_logging or self.address is None:
            return False
        if source in _SERVER_SOURCES:
            return self.enable_server_logging
        if source == "client":
            return self.enable_client_logging
        return True


def load_client_config(
    environ: Mapping[str, str] | None = None, directory: str | None = None
) -> ClientConfig:
    """Resolve the client's settings from ``environ`` (default ``os.environ``) and dotenv files."""
    env = _merged_environment(os.environ if environ is None else environ, directory or os.getcwd())

    def raw(name: str) -> str | None:
        for key in (f"SIDELOG_{name}", name):
            if key in env:
                return env[key]
        return None

    defaults = ClientConfig()
    address = defaults.address
    text = env.get("SIDELOG_ADDRESS")
    if text is not None:
        try:
            address = parse_address(text)
        except ValueError as exc:
            _warn(f"ignoring SIDELOG_ADDRESS: {exc}")
    level = defaults.log_level
    level_text = raw("LOG_LEVEL")
    if level_text is not None:
        found = LEVEL_ALIASES.get(level_text.strip().lower())
        if found is None:
            _warn(f"ignoring LOG_LEVEL={level_text!r}: use debug, info, warn or error")
        else:
            level = found
    return ClientConfig(
        address=address,
        enable_event_logging=_flag(raw, "ENABLE_EVENT_LOGGING", defaults.enable_event_logging),
        enable_server_logging=_flag(raw, "ENABLE_SERVER_LOGGING", defaults.enable_server_logging),
        enable_client_logging=_flag(raw, "ENABLE_CLIENT_LOGGING", defaults.enable_client_logging),
        log_level=level,
        batch_events=_flag(raw, "BATCH_EVENTS", defaults.batch_events),
        max_events_per_batch=_number(raw, "MAX_EVENTS_PER_BATCH", defaults.max_events_per_batch, 1),
        batch_interval_ms=_number(raw, "BATCH_INTERVAL_MS", defaults.batch_interval_ms, 0),
        buffer_size=_number(raw, "CLIENT_BUFFER", defaults.buffer_size, 1),
        token=raw("TOKEN") or None,
        slow_request_ms=_number(raw, "SLOW_REQUEST_MS", defaults.slow_request_ms, 0),
    )


def _merged_environment(environ: Mapping[str, str], directory: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name in (".env", ".env.local"):
        merged.update(read_dotenv(os.path.join(directory, name)))
    merged.update(environ)
    return merged


def read_dotenv(path: str) -> dict[str, str]:
    """``KEY=VALUE`` lines of a dotenv file (``export``, quotes and ``#`` comments allowed)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = value.split(" #", 1)[0].strip()
        if key:
            values[key] = value
    return values


def _flag(raw: _Lookup, name: str, default: bool) -> bool:
    text = raw(name)
    if text is None:
        return default
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _warn(f"ignoring {name}={text!r}: use true or false")
    return default


def _number(raw: _Lookup, name: str, default: int, minimum: int) -> int:
    text = raw(name)
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        _warn(f"ignoring {name}={text!r}: use a whole number of at least {minimum}")
        return default
    return value


def _warn(message: str) -> None:
    """One line on stderr: a client must never raise over its configuration."""
    with contextlib.suppress(Exception):  # stderr may be closed; nothing else to do
        print(f"sidelog: {message}", file=sys.stderr)
