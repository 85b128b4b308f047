"""Settings: sources, precedence, the unprefixed aliases (README, "Settings"), and one-line
errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidelog.config import Endpoint, SettingsError, load_settings, parse_endpoint


def test_defaults() -> None:
    settings = load_settings()
    assert settings.db == Path(".sidelog/events.db")
    assert settings.tcp_endpoint == Endpoint("127.0.0.1", 7411)
    assert settings.http_endpoint == Endpoint("127.0.0.1", 7412)
    assert settings.unix is None
    assert (settings.max_events_per_batch, settings.batch_interval_ms) == (500, 50)
    assert (settings.rate_limit_burst, settings.rate_limit_interval_s) == (10_000, 30.0)
    assert settings.limits.max_line_bytes == 1024 * 1024
    assert settings.limits.max_details_depth == 32
    assert settings.limits.max_field_bytes == 8 * 1024
    assert settings.log_level == "debug"
    assert settings.store_level == "debug"


def test_seed_names_are_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("ENABLE_CLIENT_LOGGING", "false")
    monkeypatch.setenv("ENABLE_SERVER_LOGGING", "0")
    monkeypatch.setenv("ENABLE_SYSTEM_LOGGING", "no")
    monkeypatch.setenv("ENABLE_EVENT_LOGGING", "false")
    monkeypatch.setenv("BATCH_EVENTS", "false")
    monkeypatch.setenv("MAX_EVENTS_PER_BATCH", "20")
    monkeypatch.setenv("BATCH_INTERVAL_MS", "7")
    settings = load_settings()
    assert settings.log_level == "warn"
    assert not settings.enable_client_logging
    assert not settings.enable_server_logging
    assert not settings.enable_system_logging
    assert not settings.enable_event_logging
    assert settings.max_events_per_batch == 20
    assert settings.batch_size == 1  # batching off
    assert settings.batch_interval_ms == 7


def test_prefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDELOG_TCP", "127.0.0.1:9000")
    monkeypatch.setenv("SIDELOG_STORE_LEVEL", "info")
    monkeypatch.setenv("SIDELOG_RATE_LIMIT_BURST", "0")
    monkeypatch.setenv("SIDELOG_LOG_LEVEL", "error")
    settings = load_settings()
    assert settings.tcp_endpoint == Endpoint("127.0.0.1", 9000)
    assert settings.store_level == "info"
    assert settings.rate_limit_burst == 0
    assert settings.log_level == "error"


def test_precedence_flags_env_dotenv_local_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the autouse fixture made tmp_path the working directory
    (tmp_path / ".env").write_text(
        "SIDELOG_TCP=127.0.0.1:1001\nSIDELOG_HTTP=127.0.0.1:2001\nLOG_LEVEL=info\n"
    )
    (tmp_path / ".env.local").write_text("SIDELOG_TCP=127.0.0.1:1002\nSIDELOG_DB=local.db\n")
    settings = load_settings()
    assert settings.tcp == "127.0.0.1:1002"  # .env.local beats .env
    assert settings.http == "127.0.0.1:2001"
    assert settings.log_level == "info"
    assert settings.db == Path("local.db")
    monkeypatch.setenv("SIDELOG_TCP", "127.0.0.1:1003")
    assert load_settings().tcp == "127.0.0.1:1003"  # environment beats files
    assert load_settings(tcp="127.0.0.1:1004").tcp == "127.0.0.1:1004"  # flags beat everything
    assert load_settings(tcp=None).tcp == "127.0.0.1:1003"  # None means "flag not given"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:7411", Endpoint("127.0.0.1", 7411)),
        (":0", Endpoint("127.0.0.1", 0)),
        ("localhost:80", Endpoint("localhost", 80)),
        ("[::1]:9", Endpoint("::1", 9)),
        (" OFF ", None),
    ],
)
def test_parse_endpoint(text: str, expected: Endpoint | None) -> None:
    assert parse_endpoint(text) == expected


def test_endpoint_str_and_loopback() -> None:
    assert str(Endpoint("::1", 9)) == "[::1]:9"
    assert Endpoint("::1", 9).is_loopback
    assert Endpoint("127.8.9.1", 1).is_loopback
    assert not Endpoint("10.0.0.1", 1).is_loopback


def test_off_disables_endpoints() -> None:
    settings = load_settings(tcp="off", http="off", unix="off")
    assert settings.tcp_endpoint is None
    assert settings.http_endpoint is None
    assert settings.unix is None


@pytest.mark.parametrize(
    ("env", "value", "names"),
    [
        ("SIDELOG_TCP", "nonsense", "SIDELOG_TCP (--tcp)"),
        ("SIDELOG_TCP", "127.0.0.1:70000", "SIDELOG_TCP (--tcp)"),
        ("SIDELOG_HTTP", "127.0.0.1:port", "SIDELOG_HTTP (--http)"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL"),
        ("SIDELOG_LOG_LEVEL", "loud", "LOG_LEVEL"),
        ("SIDELOG_STORE_LEVEL", "loud", "SIDELOG_STORE_LEVEL"),
        ("SIDELOG_RATE_LIMIT_BURST", "lots", "SIDELOG_RATE_LIMIT_BURST"),
        ("SIDELOG_RATE_LIMIT_BURST", "-1", "SIDELOG_RATE_LIMIT_BURST"),
        ("MAX_EVENTS_PER_BATCH", "0", "MAX_EVENTS_PER_BATCH"),
        ("SIDELOG_QUEUE_SIZE", "0", "SIDELOG_QUEUE_SIZE"),
        ("BATCH_EVENTS", "maybe", "BATCH_EVENTS"),
        ("SIDELOG_RATE_LIMIT_INTERVAL_S", "0", "SIDELOG_RATE_LIMIT_INTERVAL_S"),
        ("SIDELOG_RATE_LIMIT_INTERVAL_S", "nan", "SIDELOG_RATE_LIMIT_INTERVAL_S"),
        ("SIDELOG_RATE_LIMIT_INTERVAL_S", "1e400", "SIDELOG_RATE_LIMIT_INTERVAL_S"),
        ("SIDELOG_RETENTION_DAYS", "99999999999999999999", "SIDELOG_RETENTION_DAYS"),
        ("SIDELOG_QUEUE_SIZE", "10000001", "SIDELOG_QUEUE_SIZE"),
        ("BATCH_INTERVAL_MS", "60001", "BATCH_INTERVAL_MS"),
        ("SIDELOG_MAX_LINE_BYTES", str((1 << 30) + 1), "SIDELOG_MAX_LINE_BYTES"),
        ("SIDELOG_MAX_CONNECTIONS", "0", "SIDELOG_MAX_CONNECTIONS"),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, names: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("invalid setting ")
    assert names in message
    assert "SIDELOG_SIDELOG" not in message


def test_a_number_out_of_range_names_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDELOG_RETENTION_DAYS", "36501")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == (
        "invalid setting SIDELOG_RETENTION_DAYS: 36501 is not allowed; use a whole number from 0 to 36,500"
    )
    monkeypatch.setenv("SIDELOG_RETENTION_DAYS", "36500")  # the bounds themselves are allowed
    assert load_settings().retention_days == 36_500


def test_bad_flag_names_the_flag() -> None:
    with pytest.raises(SettingsError, match=r"SIDELOG_TCP \(--tcp\).*'nonsense' is not HOST:PORT or off"):
        load_settings(tcp="nonsense")


def test_non_loopback_bind_needs_allow_remote() -> None:
    with pytest.raises(SettingsError, match=r"1\.2\.3\.4 is not a loopback address.*--allow-remote"):
        load_settings(tcp="1.2.3.4:9")
    assert load_settings(tcp="1.2.3.4:9", allow_remote=True).tcp_endpoint == Endpoint("1.2.3.4", 9)


def test_allowed_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDELOG_ALLOWED_HOSTS", "dev.local, api.dev.local")
    monkeypatch.setenv("SIDELOG_ALLOWED_ORIGINS", '["http://dev.local:3000"]')
    settings = load_settings()
    assert settings.allowed_hosts == ["dev.local", "api.dev.local"]
    assert settings.allowed_origins == ["http://dev.local:3000"]
    monkeypatch.setenv("SIDELOG_ALLOWED_ORIGINS", "[broken")
    with pytest.raises(SettingsError, match="SIDELOG_ALLOWED_ORIGINS"):
        load_settings()


def test_empty_unix_variable_means_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDELOG_UNIX", "")
    assert load_settings().unix is None
