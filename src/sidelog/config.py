"""Settings: one pydantic-settings class, read from flags, environment and dotenv files.

Precedence, highest first: command-line flags (passed as keyword arguments by
``cli.py``), the process environment, ``.env.local``, ``.env``, the defaults below.
Server settings are spelled ``SIDELOG_*``; the original event-logging plan's names (``LOG_LEVEL``,
``ENABLE_*``, ``BATCH_*``) are honoured as aliases so an existing ``.env.local``
keeps working. A bad value becomes a ``SettingsError`` whose one-line message
names the setting and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sidelog.events import LEVEL_ALIASES, Limits
from sidelog.forward.destination import parse_destinations
from sidelog.redact import DEFAULT_KEYS as DEFAULT_REDACT_KEYS
from sidelog.redact import Redactor
from sidelog.store.location import POSTGRES_STATE, StoreLocation, looks_like_url, parse_location


class SettingsError(ValueError):
    """A setting has a value sidelog cannot use; the message is the one line to show."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A host and port to bind or connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """True for loopback names and addresses (the only default-safe binds)."""
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_endpoint(value: str, *, default_host: str = "127.0.0.1") -> Endpoint | None:
    """Parse ``HOST:PORT``, ``:PORT``, ``[v6]:PORT`` or ``off`` (returns ``None``)."""
    text = value.strip()
    if text.lower() == "off":
        return None
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
    else:
        host, sep, port_text = text.rpartition(":")
    if not sep:
        raise ValueError(f"{value!r} is not HOST:PORT or off")
    host = host or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{value!r} is not HOST:PORT or off (port must be a number)") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{value!r} has port {port}; ports are 0 to 65535")
    return Endpoint(host, port)


_BOUNDS: dict[str, tuple[int, int]] = {
    "max_events_per_batch": (1, 100_000),
    "queue_size": (1, 10_000_000),
    "max_line_bytes": (1, 1 << 30),
    "max_details_depth": (1, 1000),  # orjson refuses deeper documents anyway
    "max_field_bytes": (1, 1 << 30),
    "batch_interval_ms": (0, 60_000),
    "rate_limit_burst": (0, 1_000_000_000),
    "retention_days": (0, 36_500),
    "db_budget_mb": (0, 1 << 30),
    "slow_request_ms": (0, 86_400_000),
}
"""Whole-number settings' ranges: past them a value is meaningless or overflows SQLite."""


def _choices(default: Any, *names: str) -> Any:
    """A field that also answers to the original plan's unprefixed environment name (see the README)."""
    return Field(default, validation_alias=AliasChoices(*names))


class Settings(BaseSettings):
    """Every server setting. Field docstrings are the configuration reference."""

    model_config = SettingsConfigDict(
        env_prefix="SIDELOG_",
        env_file=(".env", ".env.local"),
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
        validate_default=True,
    )

    db: Path = Path(".sidelog/events.db")
    """SQLite file (``SIDELOG_DB``, ``--db``). Its folder is created with a ``.gitignore``.
    A ``postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME`` URL selects PostgreSQL instead
    (``store``; this field then holds ``.sidelog/postgresql``, whose folder keeps local
    files such as the token); any other URL is refused (store/location.py)."""
    _store_url: StoreLocation | None = PrivateAttr(None)
    tcp: str = "127.0.0.1:7411"
    """TCP NDJSON endpoint, ``HOST:PORT`` or ``off`` (``SIDELOG_TCP``, ``--tcp``)."""
    http: str = "127.0.0.1:7412"
    """HTTP API endpoint, ``HOST:PORT`` or ``off`` (``SIDELOG_HTTP``, ``--http``)."""
    unix: Path | None = None
    """Unix socket path; off unless set (``SIDELOG_UNIX``, ``--unix``)."""
    allow_remote: bool = False
    """Allow binding non-loopback addresses (``SIDELOG_ALLOW_REMOTE``, ``--allow-remote``)."""
    token: str | None = None
    """Shared secret required from remote clients; generated into ``token`` beside the DB."""
    allowed_hosts: Annotated[list[str], NoDecode] = []
    """Extra ``Host`` names accepted by the HTTP API besides loopback ones (comma-separated
    or a JSON list)."""
    allowed_origins: Annotated[list[str], NoDecode] = []
    """Extra browser origins (``http://dev.local:3000``) accepted besides localhost ones
    (comma-separated or a JSON list)."""
    tokens_file: Path | None = None
    """Named per-client and read-only tokens, ``NAME TOKEN [read-only]`` a line, mode 0600
    (``SIDELOG_TOKENS_FILE``, ``--tokens``; README "Sharing one server")."""
    tls_cert: Path | None = None
    """PEM certificate (chain): the HTTP endpoint serves HTTPS (``SIDELOG_TLS_CERT``, ``--tls-cert``)."""
    tls_key: Path | None = None
    """The certificate's unencrypted PEM private key (``SIDELOG_TLS_KEY``, ``--tls-key``)."""

    enable_event_logging: bool = _choices(True, "SIDELOG_ENABLE_EVENT_LOGGING", "ENABLE_EVENT_LOGGING")
    """Master switch; when false every incoming event is counted as filtered."""
    enable_client_logging: bool = _choices(True, "SIDELOG_ENABLE_CLIENT_LOGGING", "ENABLE_CLIENT_LOGGING")
    """Accept ``source=client`` events."""
    enable_server_logging: bool = _choices(True, "SIDELOG_ENABLE_SERVER_LOGGING", "ENABLE_SERVER_LOGGING")
    """Accept server, middleware and api events."""
    enable_system_logging: bool = _choices(True, "SIDELOG_ENABLE_SYSTEM_LOGGING", "ENABLE_SYSTEM_LOGGING")
    """Record sidelog's own ``system`` events (rate-limit reports, start/stop)."""
    log_level: str = _choices("debug", "SIDELOG_LOG_LEVEL", "LOG_LEVEL")
    """Minimum level accepted at all; lower events are counted as filtered."""
    store_level: str = "debug"
    """Minimum level written to the database; lower events are shown live only."""
    batch_events: bool = _choices(True, "SIDELOG_BATCH_EVENTS", "BATCH_EVENTS")
    """Batch writes; when false every event is committed on its own."""
    max_events_per_batch: int = _choices(500, "SIDELOG_MAX_EVENTS_PER_BATCH", "MAX_EVENTS_PER_BATCH")
    """Flush a batch once it holds this many events."""
    batch_interval_ms: int = _choices(50, "SIDELOG_BATCH_INTERVAL_MS", "BATCH_INTERVAL_MS")
    """Flush a batch once its oldest event has waited this long."""
    queue_size: int = 10_000
    """Events held in memory awaiting the writer; past it, sockets stop being read. One of
    the writer's largest transactions, refilled while the writer stores the last: 20,000
    only raised a 100k flood's peak RSS (by ~6 MB over a 1M store), not the ingest rate
    (``python -m sidelog.bench.gc_ingest``)."""
    rate_limit_burst: int = 10_000
    """Events per (source, category) per interval; ``0`` turns rate limits off."""
    rate_limit_interval_s: float = 30.0
    """Length of a rate-limit window, in seconds."""
    max_line_bytes: int = 1024 * 1024
    """Largest accepted line or HTTP body, in bytes."""
    max_details_depth: int = 32
    """Deepest accepted nesting inside ``details``."""
    max_field_bytes: int = 8 * 1024
    """Largest string field other than message and details, in bytes."""
    redact_keys: str = ",".join(DEFAULT_REDACT_KEYS)
    """Comma-separated words marking secret names in ``details`` and URL parameters
    (``token`` also matches ``api_token``, ``X-Token``…); their values are stored as
    ``[redacted]``. Empty turns redaction off (``SIDELOG_REDACT_KEYS``)."""
    retention_days: int = 30
    """Events older than this are deleted (errors are archived); ``0`` keeps everything."""
    db_budget_mb: int = 500
    """Database size budget; past it the oldest non-error events are pruned."""
    slow_request_ms: int = 1000
    """Requests slower than this are logged as warnings by the client middleware."""
    max_connections: int | None = None
    """Client connections open at once, over TCP, Unix and HTTP together; past it a new
    socket client gets one error line and is closed, and HTTP keeps a few more for
    ``/v1/health``. Unset (or ``auto``): derived from the open-file limit by
    ``sidelog.ingest.accept.default_max_connections``, so the database and the UI keep
    descriptors of their own."""
    forward: Annotated[list[str], NoDecode] = []
    """Where to send every stored event onward as OTLP/HTTP logs: ``otlp+http://HOST:PORT``
    or ``otlp+https://…``, repeatable (``--forward``; ``SIDELOG_FORWARD`` comma-separated or
    a JSON list). Each keeps its own cursor in the store (README "Forwarding")."""

    @field_validator("db", mode="before")
    @classmethod
    def _db(cls, value: Any) -> Any:
        if isinstance(value, str):
            if parse_location(value).is_postgres:
                return POSTGRES_STATE
            value = value.strip()
        if isinstance(value, str | Path) and Path(value).name in ("", ".", ".."):
            raise ValueError(
                f"{str(value)!r} names a folder, not a database file: use e.g. .sidelog/events.db"
            )
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _db_url(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        # A URL does not survive the trip through ``Path`` (``//`` collapses): keep it here.
        raw = data.get("db") if isinstance(data, dict) else None
        settings = handler(data)
        if isinstance(raw, str) and looks_like_url(raw):
            settings._store_url = parse_location(raw)
        return settings

    @property
    def store(self) -> StoreLocation:
        """Where the store lives: the SQLite file ``db``, or the PostgreSQL URL given as ``--db``."""
        return self._store_url if self._store_url is not None else StoreLocation(self.db)

    @field_validator("tcp", "http")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        parse_endpoint(value)
        return value.strip()

    @field_validator("allowed_hosts", "allowed_origins", "forward", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        # Environment values: "a.local,b.local" or a JSON list; pydantic-settings alone
        # accepts only JSON and fails with a message that names no variable.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except ValueError:
                    raise ValueError("use a JSON list or comma-separated names") from None
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("forward")
    @classmethod
    def _forward(cls, value: list[str]) -> list[str]:
        return [destination.url for destination in parse_destinations(value)]

    @field_validator("unix", "tokens_file", "tls_cert", "tls_key", mode="before")
    @classmethod
    def _unix(cls, value: Any) -> Any:
        # ``off`` disables an endpoint (README: flags); an empty variable means unset.
        if isinstance(value, str) and value.strip().lower() in ("", "off"):
            return None
        return value

    @field_validator("log_level", "store_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = LEVEL_ALIASES.get(str(value).strip().lower())
        if level is None:
            raise ValueError(f"{value!r} is not a level (use debug, info, warn or error)")
        return level

    @field_validator(*_BOUNDS)
    @classmethod
    def _bounded(cls, value: int, info: ValidationInfo) -> int:
        low, high = _BOUNDS[info.field_name or ""]
        if not low <= value <= high:
            raise ValueError(f"{value} is not allowed; use a whole number from {low} to {high:,}")
        return value

    @field_validator("max_connections", mode="before")
    @classmethod
    def _connection_cap(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("", "auto"):
            return None
        return value

    @field_validator("max_connections")
    @classmethod
    def _connection_cap_positive(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 1_000_000:
            raise ValueError(f"{value} is not allowed; use a whole number from 1 to 1,000,000, or auto")
        return value

    @field_validator("rate_limit_interval_s")
    @classmethod
    def _interval(cls, value: float) -> float:
        if not 0 < value <= 86_400:
            raise ValueError(f"{value} is not allowed; use a number of seconds above 0, at most 86,400")
        return value

    @property
    def tcp_endpoint(self) -> Endpoint | None:
        """The TCP bind address, or ``None`` when off."""
        return parse_endpoint(self.tcp)

    @property
    def http_endpoint(self) -> Endpoint | None:
        """The HTTP bind address, or ``None`` when off."""
        return parse_endpoint(self.http)

    @cached_property
    def limits(self) -> Limits:
        """The event limits as the protocol layer wants them (one redactor, whose memo is kept)."""
        words = [word.strip() for word in self.redact_keys.split(",") if word.strip()]
        redactor = Redactor(words) if words else None
        return Limits(self.max_line_bytes, self.max_details_depth, self.max_field_bytes, redactor)

    @property
    def batch_size(self) -> int:
        """Effective batch size: 1 when batching is off."""
        return self.max_events_per_batch if self.batch_events else 1


FLAG_NAMES: dict[str, str] = {
    "db": "--db",
    "tcp": "--tcp",
    "http": "--http",
    "unix": "--unix",
    "forward": "--forward",
    "tokens_file": "--tokens",
    "tls_cert": "--tls-cert",
    "tls_key": "--tls-key",
}


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source, ``overrides`` (flags; ``None``: not given) on top;
    ``SettingsError`` with one clear line."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
    except ValueError as exc:  # a dotenv file that cannot be parsed
        raise SettingsError(f"invalid settings: {exc}") from None
    _check_binds(settings)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        have, lack = ("cert", "key") if settings.tls_key is None else ("key", "cert")
        raise SettingsError(
            f"invalid setting SIDELOG_TLS_{have.upper()} (--tls-{have}): TLS needs both a "
            f"certificate and a key; add SIDELOG_TLS_{lack.upper()} (--tls-{lack})"
        )
    return settings


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first bad setting and what is allowed."""
    error = exc.errors()[0]
    loc = [str(part) for part in error.get("loc", ())]
    name = _field_name(loc[0]) if loc else "setting"
    field = Settings.model_fields.get(name)
    env_name = f"SIDELOG_{name.upper()}"
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        env_name = " / ".join(str(choice) for choice in field.validation_alias.choices)
    flag = FLAG_NAMES.get(name)
    where = f"{env_name} ({flag})" if flag else env_name
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    # A URL is quoted by its own message, password hidden (store/location.py): never repeat it.
    if isinstance(value, str | int | float) and str(value) not in message and not looks_like_url(str(value)):
        message = f"{value!r}: {message}"
    return f"invalid setting {where}: {message}"


def _field_name(loc: str) -> str:
    """The field behind an error location (pydantic names aliased settings by alias)."""
    lowered = loc.lower()
    for name, info in Settings.model_fields.items():
        if name == lowered:
            return name
        alias = info.validation_alias
        if isinstance(alias, AliasChoices) and any(str(c).lower() == lowered for c in alias.choices):
            return name
    return lowered


def _check_binds(settings: Settings) -> None:
    for name in ("tcp", "http"):
        endpoint = getattr(settings, f"{name}_endpoint")
        if endpoint is not None and not endpoint.is_loopback and not settings.allow_remote:
            raise SettingsError(
                f"invalid setting SIDELOG_{name.upper()} (--{name}): {endpoint.host} is not a "
                "loopback address; binding it needs --allow-remote (clients then need the token)"
            )
