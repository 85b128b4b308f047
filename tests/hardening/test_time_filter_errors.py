"""A time filter sidelog cannot use is one line and a non-zero exit, never a traceback.

``tail`` and ``export`` share the parser of ``src/sidelog/timespec.py`` with the HTTP
API; a value such as ``inf`` must be refused before anything is read or connected.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run

BAD = [
    ("--since", "inf", "since: inf is not a time between 1970 and 9999"),
    ("--since", "-inf", "since"),
    ("--since", "nan", "since"),
    ("--since", "1e30", "since: 1e30 is not a time between 1970 and 9999"),
    ("--until", "99999y", "until must be"),
    ("--since", "99999d", "reaches back before 1970"),
]


def _nobody() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing may be reached
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(("flag", "value", "needle"), BAD)
def test_tail_refuses_a_bad_time_in_one_line(tmp_path: Path, flag: str, value: str, needle: str) -> None:
    result = run(["tail", f"{flag}={value}", "--to", _nobody()], tmp_path)
    assert_one_line_error(result, 1, "invalid filter", needle)


@pytest.mark.parametrize(("flag", "value", "needle"), BAD)
def test_export_refuses_a_bad_time_in_one_line(tmp_path: Path, flag: str, value: str, needle: str) -> None:
    result = run(["export", f"{flag}={value}", "--db", str(tmp_path / "none.db")], tmp_path)
    assert_one_line_error(result, 1, "invalid filter", needle)
    assert result.stdout == ""


def test_until_before_since_is_one_line(tmp_path: Path) -> None:
    result = run(["export", "--since", "1h", "--until", "2h", "--db", str(tmp_path / "none.db")], tmp_path)
    assert_one_line_error(result, 1, "until must be later than since")
