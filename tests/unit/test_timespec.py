"""Time filters: every accepted form, and a one-line refusal for everything else."""

from __future__ import annotations

from datetime import datetime

import pytest

from sidelog.filters import EventFilter
from sidelog.timespec import MAX_MS, check_range, parse_time

NOW = 1_764_500_000_000  # 2025-11-30T10:53:20Z


def at(value: str) -> int:
    return parse_time(value, "since", now=lambda: NOW)


@pytest.mark.parametrize(
    ("text", "back_ms"),
    [
        ("30s", 30_000),
        ("10m", 600_000),
        ("2h", 7_200_000),
        ("7d", 604_800_000),
        ("1w", 604_800_000),
        ("1.5h", 5_400_000),
        ("10M", 600_000),
        ("now", 0),
    ],
)
def test_durations_count_back_from_now(text: str, back_ms: int) -> None:
    assert at(text) == NOW - back_ms


def test_today_and_yesterday_are_local_midnights() -> None:
    today = datetime.fromtimestamp(at("today") / 1000).astimezone()
    assert (today.hour, today.minute, today.second, today.microsecond) == (0, 0, 0, 0)
    assert 0 <= NOW - at("today") < 86_400_000
    assert at("today") - at("yesterday") in (82_800_000, 86_400_000, 90_000_000)  # DST days too


def test_absolute_forms() -> None:
    assert at("1700000000000") == 1_700_000_000_000
    assert at("2024-01-01T00:00:00Z") == 1_704_067_200_000
    assert at("2024-01-01T01:00:00.250+01:00") == 1_704_067_200_250
    assert at(str(MAX_MS)) == MAX_MS


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("inf", "not a time between 1970 and 9999"),
        ("nan", "not a time between 1970 and 9999"),
        ("1e30", "not a time between 1970 and 9999"),
        ("-1", "not a time between 1970 and 9999"),
        ("-5m", "write 5m instead of -5m"),
        ("99999y", "must be a duration"),
        ("99999999999d", "before 1970"),
        ("last week", "must be a duration"),
        ("", "must be a duration"),
    ],
)
def test_nonsense_is_one_line_naming_the_parameter(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^since") as raised:
        at(text)
    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_window_must_not_end_before_it_starts() -> None:
    check_range(1, 2)
    check_range(None, 2)
    with pytest.raises(ValueError, match="until must be later than since"):
        check_range(5, 5)
    with pytest.raises(ValueError, match="until must be later than since"):
        EventFilter.from_params({"since": "1h", "until": "2h"})


def test_filters_take_relative_times() -> None:
    flt = EventFilter.from_params({"since": "10m"})
    assert flt.since is not None
