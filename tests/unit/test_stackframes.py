"""The stack-frame parser: real stacks of each kind, Sentry frame lists, and hostile input."""

from __future__ import annotations

import shutil
import subprocess
import traceback

import pytest

from sidelog.lazylines import LazyLines
from sidelog.stackframes import MAX_LINE_CHARS, Kind, Stack, classify, is_library, parse_frame, stack_text


def _python_traceback() -> str:
    def inner() -> None:
        raise ValueError("boom")

    def outer() -> None:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc

    try:
        outer()
    except RuntimeError as exc:
        return "".join(traceback.format_exception(exc))
    raise AssertionError("outer() did not raise")


def _kinds(stack: Stack) -> list[Kind]:
    return [stack.line(i).kind for i in range(len(stack))]


def test_a_real_python_traceback_with_its_chain() -> None:
    stack = Stack(_python_traceback())
    frames = stack.frames()
    assert [frame.function for frame in frames] == ["outer", "inner", "_python_traceback", "outer"]
    assert all(frame.file == __file__ and frame.in_app and frame.line for frame in frames)
    kinds = _kinds(stack)
    assert kinds.count(Kind.HEADER) == 2
    assert kinds.count(Kind.CHAIN) == 1
    assert [stack.line(i).text for i, kind in enumerate(kinds) if kind is Kind.EXCEPTION] == [
        "ValueError: boom",
        "RuntimeError: wrapped",
    ]
    first = next(i for i, kind in enumerate(kinds) if kind is Kind.FRAME)
    assert kinds[first + 1] is Kind.SOURCE  # the source line under the frame
    assert "inner()" in stack.line(first + 1).text


def test_python_library_frames() -> None:
    for path in (
        "/venv/lib/python3.11/site-packages/httpx/_client.py",
        "<frozen runpy>",
        "/usr/lib/python3.11/x.py",
    ):
        frame = parse_frame(f'  File "{path}", line 10, in send')
        assert frame is not None, path
        assert not frame.in_app, path
    frame = parse_frame('  File "/app/checkout.py", line 7, in pay')
    assert frame is not None
    assert frame.in_app
    assert (frame.file, frame.line, frame.function) == ("/app/checkout.py", 7, "pay")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_real_node_stack_with_a_cause() -> None:
    script = (
        "function charge(){ throw new Error('declined', {cause: new TypeError('bad card')}) }"
        "try { charge() } catch (e) { console.log(require('util').inspect(e)) }"
    )
    out = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    stack = Stack(out)
    frames = stack.frames()
    charge = [frame for frame in frames if frame.function == "charge"]
    assert charge
    assert all(frame.in_app and frame.line == 1 and frame.column for frame in charge)
    internal = [frame for frame in frames if frame.file.startswith("node:internal")]
    assert internal
    assert not any(frame.in_app for frame in internal)
    assert Kind.CHAIN in _kinds(stack)  # "[cause]: TypeError: bad card"
    assert stack.line(0).kind is Kind.EXCEPTION


def test_v8_java_and_browser_frame_shapes() -> None:
    cases = {
        "    at Object.<anonymous> (/app/src/index.js:12:5)": (
            "/app/src/index.js",
            12,
            5,
            "Object.<anonymous>",
            True,
        ),
        "    at /app/src/index.js:3:1": ("/app/src/index.js", 3, 1, "", True),
        "    at async Promise.all (index 0)": ("index 0", None, None, "async Promise.all", False),
        "    at run (node_modules/express/lib/router.js:9:2)": (
            "node_modules/express/lib/router.js",
            9,
            2,
            "run",
            False,
        ),
        "    at new Foo (http://localhost:3000/static/app.js:1:200)": (
            "http://localhost:3000/static/app.js",
            1,
            200,
            "new Foo",
            True,
        ),
        "\tat com.acme.Pay.charge(Pay.java:42)": ("Pay.java", 42, None, "com.acme.Pay.charge", True),
        "\tat java.base/java.lang.Thread.run(Thread.java:833)": (
            "Thread.java",
            833,
            None,
            "java.base/java.lang.Thread.run",
            False,
        ),
        "charge@http://localhost:3000/app.js:10:7": ("http://localhost:3000/app.js", 10, 7, "charge", True),
        "foo/<@http://x.example/a.js:1:2": ("http://x.example/a.js", 1, 2, "foo/<", True),
        "global code@http://x.example/a.js:1:2": ("http://x.example/a.js", 1, 2, "global code", True),
        "forEach@[native code]": ("[native code]", None, None, "forEach", False),
    }
    for line, (file, number, column, function, in_app) in cases.items():
        frame = parse_frame(line)
        assert frame is not None, line
        assert (frame.file, frame.line, frame.column, frame.function, frame.in_app) == (
            file,
            number,
            column,
            function,
            in_app,
        ), line
        assert line[frame.file_span[0] : frame.file_span[1]] == file
    for not_a_frame in ("ValueError: mail to a@b/c:25 failed", "Error: x", "", "at", "    at ", "@:1:2"):
        assert parse_frame(not_a_frame) is None, not_a_frame


def test_java_library_by_package() -> None:
    frame = parse_frame("\tat java.util.ArrayList.get(ArrayList.java:427)")
    assert frame is not None
    assert not frame.in_app
    assert classify("Caused by: java.io.IOException: disk").kind is Kind.CHAIN
    assert classify("\t... 12 more").kind is Kind.NOTE
    assert is_library("node:internal/timers")
    assert is_library("x", "kotlin.collections.X")


def test_sentry_frame_lists_in_every_shape() -> None:
    frames = [
        {"filename": "/venv/site-packages/django/core.py", "lineno": 10, "function": "run", "in_app": False},
        {
            "abs_path": "/app/views.py",
            "lineno": 42,
            "function": "pay",
            "in_app": True,
            "context_line": " charge() ",
        },
    ]
    for details in (
        {"exception": {"stack": frames}},
        {"exception": {"stacktrace": {"frames": frames}}},
        {
            "exception": {
                "values": [{"type": "KeyError", "value": "'card'", "stacktrace": {"frames": frames}}]
            }
        },
    ):
        text = stack_text(details)
        assert text is not None
        stack = Stack(text)
        parsed = stack.frames()
        assert [(frame.file, frame.in_app) for frame in parsed] == [
            ("/venv/site-packages/django/core.py", False),
            ("/app/views.py", True),
        ]
        assert "    charge()" in stack.lines
    values = stack_text({"exception": {"values": [{"type": "KeyError", "value": "'card'"}]}})
    assert values is not None
    assert values.endswith("KeyError: 'card'\n")
    assert stack_text({"exception": {"type": "E"}}) is None
    assert stack_text("not a dict") is None


def test_the_in_app_mark_is_the_authority_when_present() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/lib/vendored.py", line 1, in helper\n'
        '  File "/app/views.py", line 2, in pay (in app)\n'
        "ValueError: x\n"
    )
    stack = Stack(text)
    assert stack.marked
    helper, pay = stack.frames()
    assert not helper.in_app  # no mark: a library frame, whatever its path says
    assert pay.in_app
    assert pay.function == "pay"


def test_hostile_lines_parse_literally() -> None:
    hostile = [
        '  File "/app/\x1b]0;PWNED\x07x.py", line 3, in f\u202eevil',
        '  File "/app/[bold red]fake[/].py", line 4, in [link=http://x]g[/link]',
        "    at \x9b31m (\u2066/app/a.js:1:2)",
        "\x1b[2Jcharge@http://x/\u202ea.js:1:2",
    ]
    for line in hostile:
        frame = parse_frame(line)
        assert frame is not None, line
        assert line[frame.file_span[0] : frame.file_span[1]] == frame.file
    markup = parse_frame(hostile[1])
    assert markup is not None
    assert markup.file == "/app/[bold red]fake[/].py"
    assert markup.function == "[link=http://x]g[/link]"


def test_lines_and_stacks_are_bounded() -> None:
    frame = parse_frame('  File "' + "x" * (MAX_LINE_CHARS * 3) + '", line 1, in f')
    assert frame is None  # the quote closing the path is past the part looked at
    one_line = "Error: x " + "at a (http://x/y.js:1:2) " * 42_000  # ~1 MB, one line
    stack = Stack(one_line)
    assert len(stack) == 1
    assert stack.line(0).kind is Kind.EXCEPTION
    assert "more characters" not in stack.line(0).text  # the model keeps it whole; views clip


def test_a_stack_of_100000_frames_is_read_lazily() -> None:
    text = "Error: deep\n" + "".join(
        f"    at f{i} (/app/node_modules/m{i}.js:{i + 1}:1)\n" for i in range(100_000)
    )
    stack = Stack(text)
    assert len(stack) == 100_001
    assert isinstance(stack.lines, LazyLines)
    assert stack.lines.split_so_far == 0
    first = stack.line(1).frame
    assert first is not None
    assert first.function == "f0"
    assert stack.lines.split_so_far < 100_001  # only the first chunk was split
    last = stack.line(100_000).frame
    assert last is not None
    assert last.function == "f99999"
    assert not last.in_app
    runs = stack.library_runs()
    assert runs == [(1, 100_001, 100_000)]


def test_more_lines_than_kept_end_with_a_note() -> None:
    stack = Stack("x\n" * 300_000)
    assert len(stack) == 250_001
    assert stack.line(250_000).kind is Kind.NOTE
    assert "50,000 more lines" in stack.line(250_000).text


@pytest.mark.parametrize(
    "text",
    ["", "\n", "a", "a\n", "a\n\nb\n", "x" * 700_000 + "\ny\n", "\n".join(str(i) for i in range(70_000))],
)
def test_lazy_lines_equal_a_split(text: str) -> None:
    expected = text.split("\n")
    if expected and expected[-1] == "":
        expected.pop()
    lines = LazyLines(text, 1_000_000)
    assert len(lines) == len(expected)
    if expected:
        assert lines[-1] == expected[-1]
        assert lines[0:3] == expected[0:3]
    assert list(lines) == expected
