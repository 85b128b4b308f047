"""What ``details`` needs on the way in: unknown fields folded in, depth and secrets checked.

``events.py`` validates an event; these helpers walk its ``details`` value once,
measuring the nesting (refused past the limit) and noting whether a secret-looking
name (``sidelog.redact``) occurs, so redaction costs nothing when there is nothing
to redact.
"""

from __future__ import annotations

from typing import Any

from sidelog.redact import Redactor


def merge_extra(details: object, extra: dict[str, Any]) -> object:
    """Fold unknown top-level fields into ``details`` without overwriting anything."""
    if details is None:
        return extra
    if isinstance(details, dict):
        merged = dict(details)
        clashes = {}
        for key, value in extra.items():
            if key in merged:
                clashes[key] = value
            else:
                merged[key] = value
        if clashes:
            merged["_extra"] = clashes
        return merged
    return {"details": details, **extra}


class Secrets:
    """Whether the walk of ``details`` met a secret-looking name (then it is redacted)."""

    __slots__ = ("found", "redactor")

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.found = False


def depth(value: object, limit: int, secrets: Secrets | None = None) -> int:
    """Nesting depth of ``value`` (1 for a flat object), stopping once past ``limit``.

    The same walk notes a secret-looking key for ``secrets``: one memoised look-up per
    key, so redaction costs next to nothing when there is nothing to redact.
    """
    kind = type(value)
    if kind is dict:
        if secrets is not None and not secrets.found:
            is_secret = secrets.redactor.is_secret
            for key in value:  # type: ignore[attr-defined]
                if is_secret(key):
                    secrets.found = True
                    break
        children: Any = value.values()  # type: ignore[attr-defined]
    elif kind is list:
        children = value
    else:
        return 0
    if limit <= 0:
        return 1
    deepest = 0
    for child in children:
        child_kind = type(child)
        if child_kind is dict or child_kind is list:
            child_depth = depth(child, limit - 1, secrets)
            if child_depth > deepest:
                deepest = child_depth
    return deepest + 1
