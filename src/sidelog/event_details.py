"""What ``details`` needs on the way in: unknown fields folded in, depth and secrets checked.

``events.py`` validates an event; these helpers walk its ``details`` value once,
measuring the nesting (refused past the limit) and noting whether a secret-looking
name (``sidelog.redact``) occurs, so redaction costs nothing when there is nothing
to redact.
"""

from __future__ import annotations

from itertools import compress
from typing import Any

import orjson

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


_CONTAINERS = frozenset((dict, list))
_IS_CONTAINER = _CONTAINERS.__contains__
"""Whether a value's exact type is one a walk descends into (a C-level predicate)."""
TOO_DEEP: Any = object()
"""What ``screened`` returns for a value nested past the limit."""


def screened(value: object, limit: int, redactor: Redactor | None) -> Any:
    """``value`` with secrets redacted (itself when there are none), or ``TOO_DEEP``.

    The usual ``details`` is a flat object of names seen many times before: two
    C-level set tests show it has no nesting and no secret, skipping the walk.
    """
    if (
        redactor is not None
        and type(value) is dict
        and limit >= 1
        and redactor.clean.issuperset(value)
        and _CONTAINERS.isdisjoint(map(type, value.values()))
    ):
        return value
    secrets = Secrets(redactor) if redactor is not None else None
    if depth(value, limit, secrets) > limit:
        return TOO_DEEP
    if secrets is not None and secrets.found:
        return secrets.redactor.value(value)
    return value


def screened_text(value: object, limit: int, redactor: Redactor | None) -> tuple[Any, str] | None:
    """``screened(value, …)`` and its compact JSON text, or ``None`` past the depth limit.

    The text is written first, since it is needed anyway: when it holds no ``{`` or ``[``
    after its first byte, ``value`` has no nested object or array (one inside a string
    only sends the value down the full walk), so its depth is within any limit and the
    walk is skipped; an object whose names are all known clean then needs nothing else.
    """
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # the walk words it (or the write below raises as before)
        written = None
    if (
        written is not None
        and limit >= 1
        and written.find(b"{", 1) < 0
        and b"[" not in written
        and (redactor is None or type(value) is not dict or redactor.clean.issuperset(value))
    ):
        return value, written.decode()
    result = screened(value, limit, redactor)
    if result is TOO_DEEP:
        return None
    if result is not value or written is None:
        written = orjson.dumps(result)
    return result, written.decode()


class Secrets:
    """Whether the walk of ``details`` met a secret-looking name (then it is redacted)."""

    __slots__ = ("found", "redactor")

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.found = False


def depth(value: object, limit: int, secrets: Secrets | None = None) -> int:
    """Nesting depth of ``value`` (1 for a flat object), stopping once past ``limit``.

    The same walk notes a secret-looking key for ``secrets``: an object whose keys are
    all known clean costs one C-level set test, any other key one memoised look-up, so
    redaction costs next to nothing when there is nothing to redact. Only the children
    that are themselves objects or arrays are visited (selected in C, not by a Python
    loop over every value): a flat ``details`` is one pass of C code.
    """
    kind = type(value)
    if kind is dict:
        if secrets is not None and not secrets.found:
            redactor = secrets.redactor
            if not redactor.clean.issuperset(value):  # type: ignore[arg-type]
                for key in value:  # type: ignore[attr-defined]
                    if redactor.is_secret(key):
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
    for child in compress(children, map(_IS_CONTAINER, map(type, children))):
        child_depth = depth(child, limit - 1, secrets)
        if child_depth > deepest:
            deepest = child_depth
    return deepest + 1
