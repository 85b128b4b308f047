"""Where the store lives: a SQLite file path or a PostgreSQL URL (``--db``, ``SIDELOG_DB``).

A value that starts like a URL (``letters:``) is a URL and must be one sidelog
supports; it is never taken as a file name, so a typo such as ``postgres:/x`` or an
unsupported ``mysql://…`` is refused with one line instead of quietly creating a
SQLite file of that name. A file whose name contains a colon is still reachable as
``./name:1.db``. Everything else is a file path (SQLite, as before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
"""The URL schemes that select PostgreSQL (all are driven by asyncpg)."""
SUPPORTED_FORMS = (
    "use a file path (SQLite) or postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME "
    "(also postgres:// and postgresql+asyncpg://)"
)
"""The end of every refusal: the forms ``--db`` accepts."""
POSTGRES_STATE = Path(".sidelog/postgresql")
"""What ``Settings.db`` holds when the store is PostgreSQL: its folder (``.sidelog``) is
where local files such as the remote-access token go; no file of this name is made."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


class LocationError(ValueError):
    """A ``--db`` value that is neither a file path nor a supported URL (one line)."""


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A parsed ``--db``: a SQLite file, or a PostgreSQL database reached through asyncpg."""

    path: Path | None
    """The SQLite file (``None`` for PostgreSQL)."""
    url: URL | None = None
    """The SQLAlchemy URL (``postgresql+asyncpg://…``) for PostgreSQL, else ``None``."""

    @property
    def is_postgres(self) -> bool:
        """True when the store is a PostgreSQL database."""
        return self.url is not None

    def display(self) -> str:
        """The location for messages: the file, or the URL with its password hidden."""
        if self.url is not None:
            return self.url.set(drivername="postgresql").render_as_string(hide_password=True)
        return str(self.path)


def looks_like_url(value: str) -> bool:
    """Whether ``value`` starts with a URL scheme (``letters:``; a lone drive letter is not one)."""
    match = _SCHEME.match(value.strip())
    return match is not None and len(match.group(1)) > 1


def parse_location(value: str | Path) -> StoreLocation:
    """Parse a ``--db`` value, raising ``LocationError`` (one line) for an unusable URL."""
    if isinstance(value, Path):
        return StoreLocation(value)
    text = value.strip()
    if not text:
        raise LocationError(f"an empty database location; {SUPPORTED_FORMS}")
    if not looks_like_url(text):
        return StoreLocation(Path(text))
    return StoreLocation(None, postgres_url(text))


def postgres_url(text: str) -> URL:
    """The asyncpg URL for a ``postgresql://`` value; ``LocationError`` if it is not one.

    SQLAlchemy is imported here, not at the top: every command reads the settings,
    and most (``send``, ``run``, ``tail``, a SQLite store's first paint) never need it.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = text.split(":", 1)[0].lower()
    shown = _hide_password(text)
    if scheme not in POSTGRES_SCHEMES:
        raise LocationError(f"unsupported database location {shown!r}; {SUPPORTED_FORMS}")
    if not text[len(scheme) + 1 :].startswith("//"):
        raise LocationError(f"malformed database URL {shown!r} (no '//' after the scheme); {SUPPORTED_FORMS}")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        reason = "the port must be a number" if "int()" in str(exc) else str(exc).splitlines()[0]
        raise LocationError(f"malformed database URL {shown!r} ({reason}); {SUPPORTED_FORMS}") from None
    if url.port is not None and not 0 < url.port < 65536:
        raise LocationError(f"malformed database URL {shown!r} (port {url.port}); {SUPPORTED_FORMS}")
    if not url.database or "/" in url.database:
        raise LocationError(f"database URL {shown!r} names no database (…/NAME); {SUPPORTED_FORMS}")
    return url.set(drivername="postgresql+asyncpg")


def _hide_password(text: str) -> str:
    """``text`` with the password of ``scheme://user:password@…`` replaced by ``***``."""
    return re.sub(r"^([^:/]+://[^:/@]*:)[^@/]*@", r"\1***@", text)
