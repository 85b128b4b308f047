"""Error grouping keys: volatile parts normalised, exception type and top frame kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sidelog.fingerprint import exception_signature, fingerprint_of, message_shape, top_frame
from tests.support.linear import assert_linear


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("order 123 failed", "order 98765 failed"),
        ("charge of 12.50 declined", "charge of 7,300.99 declined"),
        (
            "session 0b7f2c3a-1111-4c6e-9a8b-1234567890ab expired",
            "session 9f8e7d6c-2222-4abc-8def-abcdefabcdef expired",
        ),
        ("object 0xdeadbeef freed twice", "object 0x1234abcd freed twice"),
        ("commit a1b2c3d4e5 missing", "commit 9f9f9f9f0a missing"),
        ("user usr_8Hk2 not found", "user usr_Q91z not found"),
        ('no such key "alpha"', 'no such key "a much longer key"'),
        ("no such key 'x'", "no such key 'y'"),
        ("cannot read `foo`", "cannot read `bar`"),
        ("timeout  after   3s", "timeout after 30s"),
    ],
)
def test_messages_differing_in_volatile_parts_share_a_fingerprint(first: str, second: str) -> None:
    assert message_shape(first) == message_shape(second)
    assert fingerprint_of("api", first, None) == fingerprint_of("api", second, None)


def test_different_messages_and_categories_differ() -> None:
    assert fingerprint_of("api", "order failed", None) != fingerprint_of("api", "order shipped", None)
    assert fingerprint_of("api", "order 1 failed", None) != fingerprint_of("payment", "order 1 failed", None)


PY_STACK = """Traceback (most recent call last):
  File "/app/main.py", line 10, in handler
    pay()
  File "/app/pay.py", line {line}, in {function}
    raise ValueError("x")
ValueError: x"""

JS_STACK = """TypeError: Cannot read properties of undefined
    at {function} (webpack:///./src/{file}.js:{line}:15)
    at onClick (webpack:///./src/App.js:3:1)"""


def test_python_top_frame_is_the_innermost() -> None:
    assert top_frame(PY_STACK.format(line=5, function="charge")) == "/app/pay.py:charge"


def test_js_top_frame_is_the_first() -> None:
    assert (
        top_frame(JS_STACK.format(function="render", file="Cart", line=9))
        == "webpack:///./src/Cart.js:render"
    )


def test_line_numbers_do_not_split_groups() -> None:
    a = {"exception": {"type": "ValueError", "stack": PY_STACK.format(line=5, function="charge")}}
    b = {"exception": {"type": "ValueError", "stack": PY_STACK.format(line=50, function="charge")}}
    assert fingerprint_of("payment", "boom 1", a) == fingerprint_of("payment", "boom 2", b)


def test_exception_type_and_top_frame_split_groups() -> None:
    base = {"exception": {"type": "ValueError", "stack": PY_STACK.format(line=5, function="charge")}}
    other_type = {"exception": {"type": "KeyError", "stack": PY_STACK.format(line=5, function="charge")}}
    other_frame = {"exception": {"type": "ValueError", "stack": PY_STACK.format(line=5, function="refund")}}
    fp = fingerprint_of("payment", "boom", base)
    assert fingerprint_of("payment", "boom", other_type) != fp
    assert fingerprint_of("payment", "boom", other_frame) != fp
    assert fingerprint_of("payment", "boom", None) != fp


def test_flat_details_with_name_and_stack_count_too() -> None:
    js_a = {"name": "TypeError", "stack": JS_STACK.format(function="render", file="Cart", line=9)}
    js_b = {"name": "TypeError", "stack": JS_STACK.format(function="render", file="Checkout", line=9)}
    assert exception_signature(js_a) == "TypeError|webpack:///./src/Cart.js:render"
    assert fingerprint_of("ui", "crash", js_a) != fingerprint_of("ui", "crash", js_b)


@pytest.mark.parametrize("details", [None, [1, 2], "text", {"unrelated": 1}, {"type": 5, "stack": 3}])
def test_details_without_a_stack_add_nothing(details: object) -> None:
    assert exception_signature(details) == ""


def test_fingerprint_is_short_hex_and_stable() -> None:
    fp = fingerprint_of("api", "order 1 failed", None)
    assert len(fp) == 16
    int(fp, 16)
    assert fp == fingerprint_of("api", "order 2 failed", None)


@pytest.mark.parametrize(
    ("stack", "frame"),
    [
        (
            "    at render (http://localhost:3000/src/Cart.js:9:15)",
            "http://localhost:3000/src/Cart.js:render",
        ),
        ("    at http://localhost:3000/app.js:1:2", "http://localhost:3000/app.js:<anonymous>"),
        (
            "Error: x\n    at Array.map (<anonymous>)\n    at async load (file:///a/b.mjs:3:4)",
            "file:///a/b.mjs:load",
        ),
        ("    at new Cart (/srv/cart.js:1:1)", "/srv/cart.js:Cart"),
    ],
)
def test_browser_and_node_frames_with_urls(stack: str, frame: str) -> None:
    """Browser stacks name URLs with a scheme and port; only ``:line:col`` is cut."""
    assert top_frame(stack) == frame


@pytest.mark.parametrize(
    "stack",
    [
        lambda k: "    at " + ":1" * k + "x",
        lambda k: "    at f (" + "x:1" * k + "q)",
        lambda k: "at " + " " * k + "x",
        lambda k: 'File "' + "x" * k,
        lambda k: "  at \n" * k,
    ],
)
def test_hostile_stacks_are_linear(stack: Callable[[int], str]) -> None:
    """Fingerprinting runs on the event loop: a crafted stack must not stall it."""
    assert_linear(lambda k: exception_signature({"name": "Error", "stack": stack(k)}), 5_000)


@pytest.mark.parametrize("unit", ["deadbeef", "a", "1", "abc_a"])
def test_hostile_messages_are_linear(unit: str) -> None:
    assert_linear(lambda k: message_shape(unit * k), 250)


@pytest.mark.parametrize(
    ("stack", "frame"),
    [
        (
            'Exception in thread "main" java.lang.IllegalStateException: x\n'
            "\tat java.base/java.util.Objects.requireNonNull(Native Method)\n"
            "\tat com.acme.Cart.checkout(Cart.java:42)\n",
            "Cart.java:com.acme.Cart.checkout",
        ),
        (
            "System.InvalidOperationException: x\n   at Shop.Cart.Checkout(Int32 id) in /src/Cart.cs:line 42",
            "/src/Cart.cs:Shop.Cart.Checkout",
        ),
        (
            "panic: x\n\ngoroutine 1 [running]:\npanic({0x1, 0x2})\n\t/go/src/runtime/panic.go:914 +0x21f\n"
            "main.(*Cart).Checkout(...)\n\t/src/cart.go:8\nmain.main()\n\t/src/main.go:12 +0x1d",
            "/src/cart.go:main.(*Cart).Checkout",
        ),
        (
            "main.charge\n\t/src/pay.go:42\nruntime.main\n\t/go/src/runtime/proc.go:250",
            "/src/pay.go:main.charge",
        ),
    ],
)
def test_java_dotnet_and_go_top_frames(stack: str, frame: str) -> None:
    """Stacks the log dialects bring in (see ``sidelog.dialects``) group by their top frame too."""
    assert top_frame(stack) == frame


@pytest.mark.parametrize(
    "stack",
    [
        lambda k: "\tat x(" + "a:" * k + ")",
        lambda k: "f(" * k + "\n\t" + "/x:" * k,
        lambda k: "\tat a in " + ":line " * k,
    ],
)
def test_hostile_jvm_and_go_stacks_are_linear(stack: Callable[[int], str]) -> None:
    assert_linear(lambda k: top_frame(stack(k)), 5_000)
