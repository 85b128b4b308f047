"""Secret query parameters never leave the app: ``?token=…`` becomes ``?token=[redacted]``.

The words are the server's defaults too (``src/sidelog/redact.py`` takes them from
here; ``sidelog.js`` keeps a copy that a test compares): a parameter name that,
lower-cased without ``-``/``_``, equals or ends with one of them is a secret, so
``api_key`` and ``refreshToken`` match while
``tokens_used`` and ``sessionId`` do not. The server redacts again on ingest; doing it
here as well means the secret never goes on the wire. Used by the request middleware,
the sender (the event ``url`` field) and every integration that logs a URL (for a
fast, fine call, on the sender thread: the hook queues the URL as it is). Cheap
when there is nothing to do: one regex scan for the words before anything is split.
(Imported only by those, never by ``import sidelog_client``.)
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_WORDS = (
    "token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "apikey",
    "authorization",
    "cookie",
    "session",
    "credential",
    "credentials",
    "privatekey",
    "accesskey",
    "signature",
    "sig",
)
"""Names whose values are redacted (compared without case, ``-`` or ``_``)."""

REDACTED = "[redacted]"

_known: dict[str, bool] = {}
_KNOWN_LIMIT = 4096
_queries: dict[str, str] = {}
"""Redacted query strings already seen (an app calls the same few endpoints again and again)."""
_QUERY_MEMO_CHARS = 512
_ANY_WORD = re.compile("|".join(SECRET_WORDS))
"""One scan of the folded text for any of the words (instead of one scan per word)."""


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def is_secret(name: str) -> bool:
    """Whether values under ``name`` are redacted (memoised: apps reuse a few names)."""
    known = _known.get(name)
    if known is None:
        normal = _normal(name)
        known = any(normal.endswith(word) for word in SECRET_WORDS)
        if len(_known) >= _KNOWN_LIMIT:  # a flood of distinct names must not grow memory
            _known.clear()
        _known[name] = known
    return known


def _mentions(text: str) -> bool:
    folded = text.lower()
    if "-" in folded or "_" in folded:
        folded = folded.replace("-", "").replace("_", "")
    return _ANY_WORD.search(folded) is not None


def redact_query(query: str) -> str:
    """``a=1&token=x`` → ``a=1&token=[redacted]``; other pairs keep their exact spelling."""
    if not query:
        return query
    done = _queries.get(query)
    if done is not None:
        return done
    result = _redact_pairs(query) if _mentions(query) else query
    if len(query) <= _QUERY_MEMO_CHARS:
        if len(_queries) >= _KNOWN_LIMIT:
            _queries.clear()
        _queries[query] = result
    return result


def _redact_pairs(query: str) -> str:
    changed = False
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        name, sep, value = pair.partition("=")
        if sep and is_secret(unquote_plus(name)):
            pairs[index] = f"{name}={REDACTED}"
            changed = True
    return "&".join(pairs) if changed else query


def redact_url(url: str) -> str:
    """``url`` with secret query/fragment parameters and a userinfo password redacted."""
    if "?" not in url and "#" not in url and "@" not in url:
        return url
    rest, hash_mark, fragment = url.partition("#")
    base, question, query = rest.partition("?")
    scheme, slashes, authority = base.partition("://")
    if slashes and "@" in authority.split("/", 1)[0]:
        host_part, slash, path = authority.partition("/")
        userinfo, _, host = host_part.rpartition("@")
        if ":" in userinfo:
            base = f"{scheme}://{userinfo.split(':', 1)[0]}:{REDACTED}@{host}{slash}{path}"
    if question:
        query = redact_query(query)
    if hash_mark and "=" in fragment:
        fragment = redact_query(fragment)
    return base + (question + query) + (hash_mark + fragment)
