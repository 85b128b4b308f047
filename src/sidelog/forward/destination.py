"""``--forward`` URLs: which forms are accepted and where each one sends.

Pure: the settings validate with it at start-up, so a typo is refused with one line
before anything runs, never found by the first failing request an hour later.
``otlp+http://HOST:PORT`` posts to ``http://HOST:PORT/v1/logs`` (a path is kept as
the prefix, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` is); a missing port is OTLP/HTTP's
4318.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SUPPORTED_FORMS = (
    "otlp+http://HOST:PORT or otlp+https://HOST:PORT (optionally /PATH; logs go to PATH/v1/logs)"
)
"""What the one-line refusal names."""
OTLP_HTTP_PORT = 4318
"""The OTLP/HTTP default port, used when the URL names none."""
_SCHEMES = {"otlp+http": "http", "otlp+https": "https"}


class DestinationError(ValueError):
    """A ``--forward`` URL sidelog cannot use; the message is the one line to show."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One place events are forwarded to."""

    url: str
    """The URL as given (``otlp+http://collector:4318``)."""
    endpoint: str
    """Where requests go (``http://collector:4318/v1/logs``); also the cursor's key."""


def parse_destination(value: str) -> Destination:
    """The destination ``value`` names, or ``DestinationError`` naming the supported forms."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DestinationError(f"{value!r} is not a URL ({exc}); use {SUPPORTED_FORMS}") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise DestinationError(f"{value!r} has {shown}; use {SUPPORTED_FORMS}")
    host = parts.hostname
    if "@" in parts.netloc:
        raise DestinationError(f"{value!r}: credentials in the URL are not supported; use {SUPPORTED_FORMS}")
    if not host:
        raise DestinationError(f"{value!r} names no host; use {SUPPORTED_FORMS}")
    if parts.query or parts.fragment:
        raise DestinationError(f"{value!r} has a query or fragment; use {SUPPORTED_FORMS}")
    if port == 0:
        raise DestinationError(f"{value!r} has port 0; use {SUPPORTED_FORMS}")
    shown_host = f"[{host}]" if ":" in host else host
    path = parts.path.rstrip("/")
    endpoint = f"{scheme}://{shown_host}:{port or OTLP_HTTP_PORT}{path}/v1/logs"
    return Destination(url=text, endpoint=endpoint)


def parse_destinations(values: list[str]) -> list[Destination]:
    """Every destination, in order, each once (two spellings of one endpoint share a cursor)."""
    seen: dict[str, Destination] = {}
    for value in values:
        destination = parse_destination(value)
        seen.setdefault(destination.endpoint, destination)
    return list(seen.values())
