"""Who a client is: the shared token, named per-client tokens and read-only viewer tokens.

A server shared by a team wants to know who sent what and to let some people look
without writing. The tokens file (``tokens_file``, ``--tokens``; README "Sharing one
server") names one client a line::

    # NAME  TOKEN                              [read-only]
    alice   3q9Zl0v1s8bKc2mWn7xYp4Rt6uEo5Ai
    grafana Hh2Jk4Lm6Nn8Pp0Qq2Rr4Ss6Tt8Uu0Vv   read-only

Events sent with a named token carry ``details.client = NAME``, set by the server
(``stamp_client``) over whatever the client sent. A read-only token may read
(``GET``) but never ingest or change state. The shared token (the ``token`` file or
``SIDELOG_TOKEN``) stays valid, unnamed and with full access.

The file holds secrets, so like an ssh key it is refused when other users may read
it. Every other mistake (a duplicate name or token, a token too short to be a
secret, an unknown flag) is refused at start with one line naming the file and line.

Presented tokens are compared with every known one, in constant time per
comparison and without stopping at the first match, so neither timing nor the
order of the file tells an attacker how close a guess came.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from sidelog.errors import StartupError
from sidelog.events import Event

__all__ = [
    "FULL_ACCESS",
    "MIN_TOKEN_CHARS",
    "Identity",
    "NamedToken",
    "TokenFileError",
    "TokenTable",
    "load_token_table",
    "load_tokens_file",
    "parse_tokens",
    "stamp_client",
]

MIN_TOKEN_CHARS = 16
"""Shorter than this is a password someone typed, not a generated secret."""
READ_ONLY_FLAG = "read-only"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_MAX_FILE_BYTES = 1024 * 1024


class TokenFileError(StartupError):
    """The tokens file cannot be used; the message is the one line to show."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What a presented token grants."""

    name: str | None
    """The client's name from the tokens file; ``None`` for the shared token."""
    read_only: bool = False


FULL_ACCESS = Identity(None, False)
"""The shared token's identity (and a loopback client's, which needs no token)."""


@dataclass(frozen=True, slots=True)
class NamedToken:
    """One line of the tokens file."""

    name: str
    token: str
    read_only: bool = False


def _digest(token: str) -> bytes:
    # Fixed-length digests: ``compare_digest`` on unequal lengths returns early.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenTable:
    """Every token a server accepts, matched in constant time."""

    def __init__(self, shared: str | None = None, named: Iterable[NamedToken] = ()) -> None:
        self._entries: list[tuple[bytes, Identity]] = []
        self.named = tuple(named)
        if shared:
            self._entries.append((_digest(shared), FULL_ACCESS))
        for entry in self.named:
            if shared and hmac.compare_digest(_digest(entry.token), _digest(shared)):
                raise TokenFileError(
                    f"the token of client {entry.name!r} is also the shared token; give it its own"
                )
            self._entries.append((_digest(entry.token), Identity(entry.name, entry.read_only)))

    @property
    def empty(self) -> bool:
        """No token at all: remote clients can never authenticate."""
        return not self._entries

    def match(self, presented: str | None) -> Identity | None:
        """The identity ``presented`` grants, or ``None`` for an unknown (or no) token."""
        if not presented:
            return None
        digest = _digest(presented)
        found: Identity | None = None
        for known, identity in self._entries:
            if hmac.compare_digest(digest, known) and found is None:
                found = identity
        return found

    def match_bearer(self, authorization: str | None) -> Identity | None:
        """The identity of an ``Authorization: Bearer <token>`` header, or ``None``."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.match(value.strip())


def load_token_table(shared: str | None, path: Path | None) -> TokenTable:
    """The shared token plus the tokens file's (when one is set); ``TokenFileError``."""
    return TokenTable(shared, load_tokens_file(path) if path is not None else ())


def load_tokens_file(path: Path) -> list[NamedToken]:
    """Read and check the tokens file; raises ``TokenFileError`` with one line."""
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TokenFileError(
                f"the tokens file {path} may be read by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"it holds secrets: run chmod 600 {path}"
            )
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileError(f"the tokens file {path} is not a regular file")
        if info.st_size > _MAX_FILE_BYTES:
            raise TokenFileError(f"the tokens file {path} is larger than {_MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenFileError(f"the tokens file {path} does not exist") from None
    except UnicodeDecodeError:
        raise TokenFileError(f"the tokens file {path} is not UTF-8 text") from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise TokenFileError(f"cannot read the tokens file {path}: {reason}") from None
    return parse_tokens(text, str(path))


def parse_tokens(text: str, where: str = "tokens file") -> list[NamedToken]:
    """``NAME TOKEN [read-only]`` lines (``#`` comments, blank lines) into entries."""
    entries: list[NamedToken] = []
    names: dict[str, int] = {}
    tokens: dict[bytes, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        at = f"{where}:{number}"
        fields = line.split()
        if len(fields) < 2:
            raise TokenFileError(f"{at}: expected 'NAME TOKEN [read-only]', got one word")
        name, token, *flags = fields
        if not _NAME.fullmatch(name):
            raise TokenFileError(
                f"{at}: client name {name[:40]!r} must be 1-64 letters, digits or . _ @ + - "
                "(starting with a letter or digit)"
            )
        if len(token) < MIN_TOKEN_CHARS:
            raise TokenFileError(
                f"{at}: the token of {name!r} has {len(token)} characters; use at least "
                f"{MIN_TOKEN_CHARS} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        unknown = [flag for flag in flags if flag != READ_ONLY_FLAG]
        if unknown or len(flags) > 1:
            shown = unknown[0] if unknown else flags[-1]
            raise TokenFileError(f"{at}: unknown flag {shown[:40]!r} (the only flag is {READ_ONLY_FLAG})")
        if name in names:
            raise TokenFileError(f"{at}: client {name!r} is already named on line {names[name]}")
        digest = _digest(token)
        if digest in tokens:
            raise TokenFileError(f"{at}: the token of {name!r} is already used on line {tokens[digest]}")
        names[name] = number
        tokens[digest] = number
        entries.append(NamedToken(name, token, bool(flags)))
    return entries


def stamp_client(events: list[Event], name: str) -> None:
    """Set ``details.client`` of every event to ``name`` (over anything the client sent).

    ``details`` that are not an object are kept under ``details.details``, as unknown
    top-level fields are folded in elsewhere (sidelog/event_details.py).
    """
    for event in events:
        doc: object = None
        if event.details:
            try:
                doc = orjson.loads(event.details)
            except orjson.JSONDecodeError:
                doc = event.details
        if isinstance(doc, dict):
            doc["client"] = name
        elif doc is None:
            doc = {"client": name}
        else:
            doc = {"details": doc, "client": name}
        event.details = orjson.dumps(doc).decode()
