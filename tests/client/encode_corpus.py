"""Queued items that exercise every branch of ``sidelog_client.encode``, for comparing its two backends.

Imported both by the test process (orjson installed) and by a subprocess in which
orjson cannot be imported, so it must build the same values in both: no sets of
strings (their order depends on the per-process hash seed), no object ids.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Any

from sidelog_client.capture import ExceptionInfo

WHEN = 1_700_000_000.123


class Plan(enum.Enum):
    """An enum orjson writes as its value."""

    PRO = "pro"


@dataclasses.dataclass
class Order:
    """A dataclass orjson writes as a dict of its fields."""

    number: int
    total: float = 12.5


class Unprintable:
    """An app object whose ``__str__`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("no")

    def __repr__(self) -> str:
        return "<Unprintable>"


def _item(message: Any, **fields: Any) -> tuple[Any, ...]:
    return (
        0,
        WHEN,
        message,
        fields.get("category", "general"),
        fields.get("level", "info"),
        fields.get("details"),
        fields.get("user_id"),
        fields.get("session_id"),
        fields.get("url"),
        fields.get("show"),
        fields.get("user_message"),
        fields.get("source"),
        fields.get("extra"),
        fields.get("exc"),
    )


def _captured() -> ExceptionInfo:
    try:
        raise ValueError("card declined")
    except ValueError as exc:
        return ExceptionInfo.capture(exc)


def corpus() -> dict[str, tuple[Any, ...]]:
    """Name → queued item."""
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    return {
        "plain": _item("user signed in", category="auth", user_id="u42"),
        "every field": _item(
            "Payment initiated",
            category=" Payment ",
            level="WARNING",
            details={"amount": 2000, "nested": {"a": True, "b": None, "c": 1.5, "d": [1, "x"]}},
            user_id="u1",
            session_id="s1",
            url="http://localhost:3000/pay",
            show=1,
            user_message="Card declined",
            source="API",
            extra={"plan": "pro", "amount": "ignored: details win"},
        ),
        "unicode": _item("héllo ✓ 😀 \u202e", details={"ключ": "значение"}),
        "non-string keys": _item("keys", details={2: "int", True: "bool", None: "none", 2.5: "float"}),
        "containers": _item("containers", details={"set": {3}, "frozen": frozenset({4}), "tuple": (1, 2)}),
        "bytes": _item("bytes", details={"raw": b"caf\xc3\xa9 \xff", "buffer": bytearray(b"ab")}),
        "dates": _item(
            "dates",
            details={
                "naive": when,
                "aware": when.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
                "date": when.date(),
                "time": when.time(),
            },
        ),
        "uuid enum dataclass": _item(
            "objects", details={"id": uuid.UUID(int=7), "plan": Plan.PRO, "order": Order(3)}
        ),
        "exotic keys": _item("exotic keys", details={uuid.UUID(int=1): 1, Plan.PRO: 2, when.date(): 3}),
        "not finite": _item("floats", details={"nan": float("nan"), "inf": [float("inf"), -float("inf")]}),
        "exception value": _item("exception", details={"error": KeyError("sku")}),
        "captured exception": _item("boom", level="error", exc=_captured(), extra={"order": 7}),
        "unprintable": _item(Unprintable(), details={"thing": Unprintable()}),
        "non-dict details": _item("list details", details=[1, 2, 3]),
        "unknown level": _item("odd level", level="loud"),
        "unhashable level": _item("list level", level=["x"]),
        "blank message": _item("   "),
        "non-string message": _item(42, category=7),
        "nul in message": _item("a\x00b"),
        "long user id": _item("long", user_id="u" * 5000),
        "tuple key": _item("tuple key", details={(1, 2): "no JSON spelling"}),
        "cycle": _item("cycle", details=cycle),
        "surrogate in message": _item("file \udcff.txt", details={"ok": 1}),
        "surrogate in details": _item("surrogate detail", details={"name": "\udcff"}),
        "oversized": _item("big", details={"blob": "x" * (1024 * 1024 + 10)}),
    }


def encoded() -> dict[str, str]:
    """Name → the line ``encode_line`` writes for it (decoded, for comparing across processes)."""
    from sidelog_client.encode import encode_line

    return {name: encode_line(item, "id-1", "server").decode("utf-8") for name, item in corpus().items()}
