"""Redaction: secret-looking names lose their values, everything else is left byte-identical."""

from __future__ import annotations

import orjson
import pytest

from sidelog.redact import REDACTED, Redactor

R = Redactor()


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "api_key",
        "X-Api-Key",
        "refreshToken",
        "db_password",
        "Authorization",
        "cookie",
        "Set-Cookie",
        "session",
        "client_secret",
        "AWS_SECRET_ACCESS_KEY",
        "privateKey",
        "sig",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert R.is_secret(name)


@pytest.mark.parametrize(
    "name", ["tokens_used", "sessionId", "user", "category", "author", "config", "message"]
)
def test_ordinary_names(name: str) -> None:
    assert not R.is_secret(name)


def test_urls_lose_secret_parameters_and_passwords_only() -> None:
    assert (
        R.url("https://x.dev/cb?code=1&token=abc&page=2")
        == f"https://x.dev/cb?code=1&token={REDACTED}&page=2"
    )
    assert (
        R.url("https://x.dev/#access_token=abc&state=s") == f"https://x.dev/#access_token={REDACTED}&state=s"
    )
    assert R.url("postgres://me:hunter2@db:5432/app") == f"postgres://me:{REDACTED}@db:5432/app"
    clean = "https://x.dev/search?q=token+limits&page=2"
    assert R.url(clean) is clean
    assert R.url("not a url [") == "not a url ["


def test_details_are_redacted_at_any_depth_and_untouched_when_clean() -> None:
    text = orjson.dumps(
        {
            "order": 7,
            "headers": {"Authorization": "Bearer x", "accept": "json"},
            "attempts": [{"password": "p"}, {"ok": True}],
            "next": "https://a.b/?api_key=k",
        }
    ).decode()
    redacted = orjson.loads(R.details_text(text))
    assert redacted == {
        "order": 7,
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "attempts": [{"password": REDACTED}, {"ok": True}],
        "next": f"https://a.b/?api_key={REDACTED}",
    }
    clean = '{"orderId": 7, "amount": 2000}'
    assert R.details_text(clean) is clean
    mentions = '{"note": "rotate the token tomorrow"}'  # the word in a value is not a secret name
    assert R.details_text(mentions) == mentions


def test_words_are_configurable() -> None:
    custom = Redactor(["ssn"])
    assert custom.details_text('{"ssn": "1", "token": "t"}') == f'{{"ssn":"{REDACTED}","token":"t"}}'
    assert not Redactor([]).is_secret("token")


def test_deep_nesting_does_not_recurse_without_bound() -> None:
    deep: object = {"password": "p"}
    for _ in range(200):
        deep = [deep]
    assert R.value(deep) is deep  # beyond the depth bound values are left as they are
