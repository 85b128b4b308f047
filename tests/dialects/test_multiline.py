"""The multi-line joiner: real Python tracebacks and a real Node crash, Java and Go
samples, each joined into one block and read as one error event; bounded memory."""

from __future__ import annotations

import shutil
import subprocess
import traceback
from pathlib import Path
from typing import Any

import pytest

from sidelog.dialects import Block, MultilineJoiner, Recognised, recognise_text
from sidelog.fingerprint import exception_signature


def join(lines: list[str], **limits: Any) -> list[Block]:
    joiner = MultilineJoiner(**limits)
    blocks: list[Block] = []
    for number, line in enumerate(lines, start=1):
        blocks.extend(joiner.feed(line, now=0.0, ref=number))
    return blocks + joiner.flush()


def event_of(block: Block) -> dict[str, Any]:
    outcome = recognise_text(block.text)
    assert isinstance(outcome, Recognised), outcome
    return outcome.event


def charge_card() -> None:
    raise ValueError("card 4242 declined")


def formatted_traceback(chained: bool = False) -> str:
    try:
        try:
            charge_card()
        except ValueError as exc:
            if not chained:
                raise
            raise RuntimeError("payment failed") from exc
    except Exception:
        return traceback.format_exc()
    raise AssertionError("nothing raised")


def test_python_logging_line_and_its_traceback_are_one_block() -> None:
    lines = ["INFO:shop:checkout opened", "ERROR:shop:payment failed"]
    lines += formatted_traceback().rstrip("\n").split("\n")
    lines += ["INFO:shop:still serving"]
    blocks = join(lines)
    assert [block.ref for block in blocks] == [1, 2, len(lines)]
    event = event_of(blocks[1])
    assert (event["type"], event["message"]) == ("error", "payment failed")
    exception = event["details"]["exception"]
    assert (exception["type"], exception["message"]) == ("ValueError", "card 4242 declined")
    assert exception_signature(event["details"]) == f"ValueError|{__file__}:charge_card"


def test_chained_traceback_is_one_block_naming_the_last_exception() -> None:
    lines = formatted_traceback(chained=True).rstrip("\n").split("\n") + ["next line"]
    assert "" in lines  # Python separates the chained tracebacks with blank lines
    blocks = join(lines)
    assert len(blocks) == 2
    event = event_of(blocks[0])
    assert (event["type"], event["message"]) == ("error", "RuntimeError: payment failed")
    assert "The above exception was the direct cause" in event["details"]["exception"]["stack"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_real_node_crash_is_one_error(tmp_path: Path) -> None:
    script = tmp_path / "crash.js"
    script.write_text(
        'console.log("server started");\n'
        "function chargeCard() { throw new TypeError('card 4242 declined'); }\n"
        "chargeCard();\n"
    )
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    blocks = join((result.stdout + result.stderr).rstrip("\n").split("\n"))
    assert [block.text for block in blocks][0] == "server started"
    assert len(blocks) == 2, [block.text for block in blocks]
    event = event_of(blocks[1])
    assert (event["type"], event["message"]) == ("error", "TypeError: card 4242 declined")
    assert exception_signature(event["details"]) == f"TypeError|{script}:chargeCard"
    assert "Node.js v" in event["details"]["text"]  # lines around the stack are kept too


JAVA = """\
2024-05-01 12:00:00.123 ERROR 4242 --- [main] c.a.Shop : checkout failed
java.lang.IllegalStateException: cart closed
\tat com.acme.Cart.checkout(Cart.java:42)
\tat com.acme.Shop.main(Shop.java:7)
Caused by: java.io.IOException: socket reset
\tat com.acme.Net.read(Net.java:9)
\t... 2 more
2024-05-01 12:00:01.000 INFO 4242 --- [main] c.a.Shop : retrying"""


def test_java_trace_with_cause() -> None:
    blocks = join(JAVA.split("\n"))
    assert len(blocks) == 2
    event = event_of(blocks[0])
    assert (event["type"], event["message"]) == ("error", JAVA.split("\n")[0])
    exception = event["details"]["exception"]
    assert (exception["type"], exception["message"]) == ("java.lang.IllegalStateException", "cart closed")
    assert "Caused by: java.io.IOException" in exception["stack"]
    signature = "java.lang.IllegalStateException|Cart.java:com.acme.Cart.checkout"
    assert exception_signature(event["details"]) == signature


GO = """\
listening on :8080
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
panic({0x45e1a0, 0xc000012345})
\t/usr/local/go/src/runtime/panic.go:914 +0x21f
main.pick(...)
\t/src/shop/main.go:8
main.main()
\t/src/shop/main.go:12 +0x1d
exit status 2"""


def test_go_panic_with_its_goroutine_dump() -> None:
    blocks = join(GO.split("\n"))
    panic = "panic: runtime error: index out of range [5] with length 3"
    assert [block.text.split("\n")[0] for block in blocks] == ["listening on :8080", panic]
    event = event_of(blocks[1])
    assert event["type"] == "error"
    assert event["message"] == "panic: runtime error: index out of range [5] with length 3"
    assert blocks[1].text.endswith("exit status 2")
    assert exception_signature(event["details"]) == "panic|/src/shop/main.go:main.pick"


def test_lines_that_cannot_continue_are_handed_back_at_once() -> None:
    joiner = MultilineJoiner()
    assert [block.text for block in joiner.feed("server started", now=0.0)] == ["server started"]
    assert not joiner.pending
    assert joiner.feed("ERROR upstream failed", now=0.0) == []  # may be followed by a stack
    assert joiner.pending


def test_an_open_block_waits_for_idle_then_flushes() -> None:
    joiner = MultilineJoiner(idle_s=0.5)
    joiner.feed("Error: boom", now=10.0)
    joiner.feed("    at main (/app.js:1:1)", now=10.1)
    assert joiner.flush_idle(now=10.3) == []
    blocks = joiner.flush_idle(now=10.7)
    assert [block.text for block in blocks] == ["Error: boom\n    at main (/app.js:1:1)"]
    assert joiner.flush() == []


def test_memory_is_bounded_and_what_was_left_out_is_said() -> None:
    lines = ["Error: deep recursion"] + [f"    at f{i} (/app.js:{i}:1)" for i in range(10_000)] + ["done"]
    joiner = MultilineJoiner(max_lines=100, max_bytes=4096)
    blocks: list[Block] = []
    for line in lines:
        blocks.extend(joiner.feed(line, now=0.0))
        assert joiner.pending_bytes <= 4096 + 100
    blocks.extend(joiner.flush())
    first = blocks[0]
    assert first.lines == 10_001
    assert first.dropped == first.lines - first.text.count("\n")
    assert first.text.endswith(f"[… {first.dropped} more lines not kept]")
    assert event_of(first)["details"]["exception"]["type"] == "Error"
    assert blocks[1].text == "done"
