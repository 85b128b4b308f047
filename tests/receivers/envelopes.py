"""Building Sentry envelopes and posting them, for the receiver tests."""

from __future__ import annotations

import io
from typing import Any

import orjson

EVENT = {
    "event_id": "0123456789abcdef0123456789abcdef",
    "level": "error",
    "platform": "python",
    "sdk": {"name": "sentry.python", "version": "2.0.0"},
    "user": {"id": "u_1"},
    "contexts": {"trace": {"trace_id": "a" * 32, "span_id": "b" * 16}},
    "exception": {
        "values": [
            {
                "type": "KeyError",
                "value": "'sku'",
                "stacktrace": {
                    "frames": [
                        {"filename": "shop/app.py", "function": "checkout", "lineno": 10, "in_app": True},
                        {"filename": "shop/cart.py", "function": "price_of", "lineno": 42, "in_app": True},
                    ]
                },
            }
        ]
    },
}


def item(kind: str, payload: bytes | dict[str, Any], **header: Any) -> bytes:
    """One item with its ``length``."""
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return orjson.dumps({"type": kind, "length": len(data), **header}) + b"\n" + data + b"\n"


def envelope(*items: bytes, header: dict[str, Any] | None = None) -> bytes:
    """An envelope: header line, then the items."""
    return orjson.dumps(header if header is not None else {}) + b"\n" + b"".join(items)


def event(**changes: Any) -> dict[str, Any]:
    """``EVENT`` with top-level fields replaced (``None`` removes one)."""
    doc = {**EVENT, **changes}
    return {key: value for key, value in doc.items() if value is not None}


async def post(
    client: Any, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], Any]:
    """POST; returns status, the JSON answer (or ``{}``) and the headers."""
    if isinstance(body, bytes) and len(body) > 1024 * 1024:
        body = io.BytesIO(body)  # aiohttp sends big bodies from a file object without blocking
    async with client.post(url, data=body, headers=headers or {}) as response:
        raw = await response.read()
        try:
            answer = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            answer = {"raw": raw}
        return response.status, answer, response.headers
