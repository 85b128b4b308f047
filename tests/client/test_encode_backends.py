"""The encoder writes the same JSON with orjson and with the standard library's ``json``.

The client installed alone has no orjson (it is the optional ``fast`` extra), so
``json`` must produce the same values for everything an app may log. The test
process has orjson; a subprocess with orjson made unimportable encodes the same
corpus (``encode_corpus.py``), and the lines are compared as parsed JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sidelog.engine import Engine
from sidelog_client import jsonlib
from tests.client.conftest import MakeLogger, flush, stored
from tests.client.encode_corpus import corpus, encoded
from tests.conftest import tcp_port

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_ORJSON = """
import json, sys
sys.modules["orjson"] = None  # what an app without the fast extra sees: import orjson fails
from sidelog_client import jsonlib
from tests.client.encode_corpus import encoded
print(json.dumps({"backend": jsonlib.BACKEND, "lines": encoded()}))
"""


@pytest.fixture(scope="module")
def json_lines() -> dict[str, str]:
    """The corpus as encoded by the ``json`` backend, in a process where orjson cannot be imported."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_ORJSON],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["backend"] == "json"
    lines: dict[str, str] = out["lines"]
    return lines


def _parsed(line: str) -> dict[str, Any]:
    """One line as JSON, the text of an "unserializable" note blanked (each library words it its own way)."""
    assert line.endswith("\n")
    assert line.count("\n") == 1
    obj: dict[str, Any] = json.loads(line)
    details = obj.get("details")
    if isinstance(details, dict) and "unserializable" in details:
        details["unserializable"] = "…"
    return obj


def test_this_process_uses_orjson() -> None:
    assert jsonlib.BACKEND == "orjson"


@pytest.mark.parametrize("name", sorted(corpus()))
def test_both_backends_write_the_same_json(name: str, json_lines: dict[str, str]) -> None:
    ours = encoded()[name]
    assert _parsed(json_lines[name]) == _parsed(ours)


def test_what_both_backends_write_for_the_hard_cases(json_lines: dict[str, str]) -> None:
    """Spot checks of the values themselves (the comparison above only proves they agree)."""
    lines = {name: _parsed(line) for name, line in json_lines.items()}
    assert lines["not finite"]["details"] == {"nan": None, "inf": [None, None]}
    assert lines["non-string keys"]["details"] == {"2": "int", "true": "bool", "null": "none", "2.5": "float"}
    assert lines["dates"]["details"]["aware"] == "2024-05-06T07:08:09.123456+02:00"
    assert lines["uuid enum dataclass"]["details"] == {
        "id": "00000000-0000-0000-0000-000000000007",
        "plan": "pro",
        "order": {"number": 3, "total": 12.5},
    }
    assert lines["exotic keys"]["details"] == {
        "00000000-0000-0000-0000-000000000001": 1,
        "pro": 2,
        "2024-05-06": 3,
    }
    assert lines["surrogate in message"]["message"] == "file \ufffd.txt"
    assert lines["surrogate in message"]["details"] == {"ok": 1}
    for name in ("tuple key", "cycle", "surrogate in details"):
        assert lines[name]["details"] == {"unserializable": "…"}, name
    assert lines["oversized"]["details"]["truncated"] is True
    assert lines["captured exception"]["details"]["exception"]["type"] == "ValueError"
    assert lines["unprintable"]["message"] == "<Unprintable>"


def test_the_json_backend_matches_orjson_byte_for_byte_on_plain_events(json_lines: dict[str, str]) -> None:
    """The common case is not just the same JSON but the same bytes: compact, UTF-8, one newline."""
    ours = encoded()
    for name in ("plain", "every field", "unicode", "non-dict details"):
        assert json_lines[name] == ours[name], name


async def test_text_that_is_not_utf8_does_not_stall_delivery(engine: Engine, make_logger: MakeLogger) -> None:
    """A lone surrogate (``surrogateescape``'d file name) once made every later batch fail to encode."""
    log = make_logger(f"127.0.0.1:{tcp_port(engine)}")
    log.event("opened \udcff.txt", details={"path": "/tmp/\udcff"})
    log.event("next event")
    assert await flush(log) is True
    rows = stored(engine.settings.db)
    assert [row["message"] for row in rows] == ["opened \ufffd.txt", "next event"]
    assert set(rows[0]["details"]) == {"unserializable"}
