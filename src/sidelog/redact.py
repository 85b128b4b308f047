"""Credentials never reach the disk: values under secret-looking names become ``[redacted]``.

Apps log URLs with ``?token=…`` and ``details`` with ``password`` or ``authorization``
by accident; a local log file is then a credential store that every backup copies.
Every ingest path runs events through one ``Redactor`` before they are queued. A name
is secret-looking when, lower-cased and without ``-``/``_``, it equals or ends with
one of the configured words (``SIDELOG_REDACT_KEYS``, default ``DEFAULT_KEYS``): so
``api_key``, ``X-Api-Key``, ``refreshToken`` and ``db_password`` match, ``tokens_used``
and ``sessionId`` do not. The README lists the words and how to change them.

The common case must stay cheap: ingest checks names while it walks the decoded
``details`` anyway (``is_secret`` is one dictionary look-up for a name seen before),
and raw text is only parsed when a quick scan finds one of the words in it at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import orjson

from sidelog_client.redact import REDACTED, SECRET_WORDS

DEFAULT_KEYS = SECRET_WORDS
"""Words whose names are treated as secrets (compared without case, ``-`` or ``_``); the
client redacts the same words before sending (``sidelog_client/redact.py``)."""

_MAX_DEPTH = 64
_MEMO_SIZE = 4096


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


class Redactor:
    """Replaces secret values in URLs and JSON details; returns input unchanged when clean."""

    def __init__(self, keys: Iterable[str] = DEFAULT_KEYS) -> None:
        self.keys = tuple(sorted({_normal(key) for key in keys if key.strip()}))
        """The words, normalised."""
        self._known: dict[str, bool] = {}
        self.clean: set[str] = set()
        """Names known not to be secret (bounded like the memo): ``clean.issuperset(obj)``
        clears all of an object's keys in one C-level pass, the common case on ingest."""

    def mentions(self, text: str) -> bool:
        """A cheap first pass over raw text: could it hold a secret name? Only a hit pays for a parse."""
        folded = _normal(text)
        return any(key in folded for key in self.keys)

    def is_secret(self, name: str) -> bool:
        """Whether values under ``name`` are redacted (memoised: apps reuse a few hundred names)."""
        known = self._known.get(name)
        if known is None:
            normal = _normal(name)
            known = any(normal == key or normal.endswith(key) for key in self.keys)
            if len(self._known) >= _MEMO_SIZE:  # a flood of distinct names must not grow memory
                self._known.clear()
                self.clean.clear()
            self._known[name] = known
            if not known:
                self.clean.add(name)
        return known

    def url(self, url: str) -> str:
        """``url`` with secret query/fragment parameters and any userinfo password redacted."""
        if not self.mentions(url) and "@" not in url:
            return url
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            if ":" in userinfo:
                netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
        query = self._params(parts.query)
        fragment = self._params(parts.fragment) if "=" in parts.fragment else parts.fragment
        if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
            return url
        return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))

    def details_text(self, text: str) -> str:
        """JSON text with secret values redacted (same text when nothing is secret)."""
        if not self.mentions(text):
            return text
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        redacted, changed = self._value(value, 0)
        return orjson.dumps(redacted).decode() if changed else text

    def value(self, value: Any) -> Any:
        """A decoded JSON value with secrets redacted (the same object when nothing changed)."""
        return self._value(value, 0)[0]

    def _value(self, value: Any, depth: int) -> tuple[Any, bool]:
        if depth > _MAX_DEPTH:
            return value, False
        if isinstance(value, dict):
            changed = False
            result: dict[str, Any] = {}
            for key, item in value.items():
                if isinstance(key, str) and self.is_secret(key) and item not in (None, "", REDACTED):
                    result[key] = REDACTED
                    changed = True
                    continue
                new, item_changed = self._value(item, depth + 1)
                result[key] = new
                changed = changed or item_changed
            return (result, True) if changed else (value, False)
        if isinstance(value, list):
            items = [self._value(item, depth + 1) for item in value]
            if any(changed for _, changed in items):
                return [item for item, _ in items], True
            return value, False
        if isinstance(value, str) and ("?" in value or "@" in value) and "://" in value:
            new_url = self.url(value)
            return new_url, new_url != value
        return value, False

    def _params(self, query: str) -> str:
        if not query or not self.mentions(query):
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(self.is_secret(name) for name, _ in pairs):
            return query
        return "&".join(
            f"{quote(name, safe='')}={REDACTED if self.is_secret(name) else quote(value, safe='')}"
            for name, value in pairs
        )
