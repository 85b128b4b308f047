"""``--forward`` URLs refused with one line; the sender's retry rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from sidelog.cli import main
from sidelog.config import SettingsError, load_settings
from sidelog.forward.destination import parse_destinations
from sidelog.forward.sender import backoff, classify, parse_retry_after

FORMS = "otlp+http://HOST:PORT or otlp+https://HOST:PORT"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://collector:4318", "has scheme 'http'"),
        ("mysql://x", "has scheme 'mysql'"),
        ("collector:4318", "has scheme 'collector'"),
        ("otlp+http:/collector", "names no host"),
        ("otlp+http://collector:99999", "is not a URL"),
        ("otlp+http://collector:port", "is not a URL"),
        ("otlp+http://user:secret@collector:4318", "credentials in the URL are not supported"),
        ("otlp+http://collector:4318?x=1", "has a query or fragment"),
    ],
)
def test_bad_urls_are_refused_with_one_line(url: str, why: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(forward=[url])
    message = str(caught.value)
    assert message.startswith("invalid setting SIDELOG_FORWARD (--forward): ")
    assert why in message
    assert FORMS in message
    assert "\n" not in message


def test_the_environment_takes_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDELOG_FORWARD", "otlp+http://a:4318, otlp+https://b/ingest,otlp+http://a:4318/")
    settings = load_settings()
    assert [d.endpoint for d in parse_destinations(settings.forward)] == [
        "http://a:4318/v1/logs",
        "https://b:4318/ingest/v1/logs",
    ]


def test_serve_refuses_a_bad_url_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--forward", "otlp+http://ok:4318", "--forward", "kafka://x", "--tcp", "off"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'kafka://x' has scheme 'kafka'" in err
    assert FORMS in err


def test_classify() -> None:
    assert classify(200, None, b"").kind == "delivered"
    assert classify(200, None, b"\xff garbage").kind == "delivered"
    retry = classify(503, "7", b"overloaded")
    assert (retry.kind, retry.retry_after, retry.reason) == ("retry", 7.0, "HTTP 503: overloaded")
    assert classify(429, None, b"").kind == "retry"
    refused = classify(400, None, b"bad\x00 request\n")
    assert (refused.kind, refused.reason) == ("refused", "HTTP 400: bad request")
    assert classify(404, None, b"").kind == "refused"
    assert classify(308, None, b"").kind == "refused"


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(1)
    delays = [backoff(attempt, 0.5, 30.0, rng) for attempt in range(12)]
    for attempt, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30.0
    assert len({round(d, 6) for d in delays[8:]}) > 1  # jittered, not in step
