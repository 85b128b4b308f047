"""The client's configuration: addresses, the toggles the README lists, dotenv files, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidelog_client.config import Address, ClientConfig, load_client_config, parse_address, read_dotenv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:7411", Address("127.0.0.1", 7411)),
        ("localhost:9000", Address("localhost", 9000)),
        (":7500", Address("127.0.0.1", 7500)),
        ("[::1]:7411", Address("::1", 7411)),
        ("unix:/tmp/sidelog.sock", Address(unix_path="/tmp/sidelog.sock")),
        (" off ", None),
    ],
)
def test_parse_address(text: str, expected: Address | None) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["7411", "host:port", "host:0", "host:70000", "unix:"])
def test_parse_address_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_address(text)


def test_address_text_round_trips() -> None:
    for text in ("127.0.0.1:7411", "[::1]:7411", "unix:/run/s.sock"):
        assert str(parse_address(text)) == text


def test_defaults_without_environment(tmp_path: Path) -> None:
    config = load_client_config({}, str(tmp_path))
    assert config.address == Address("127.0.0.1", 7411)
    assert (config.log_level, config.batch_events, config.max_events_per_batch) == ("debug", True, 500)
    assert config.batch_interval_ms == 50
    assert config.enabled_for("server")


def test_seed_names_and_sidelog_prefix(tmp_path: Path) -> None:
    config = load_client_config(
        {
            "SIDELOG_ADDRESS": "unix:/tmp/x.sock",
            "LOG_LEVEL": "warning",
            "BATCH_EVENTS": "false",
            "MAX_EVENTS_PER_BATCH": "10",
            "BATCH_INTERVAL_MS": "5000",
            "SIDELOG_BATCH_INTERVAL_MS": "20",  # the prefixed name wins, as on the server
            "ENABLE_SERVER_LOGGING": "false",
            "SIDELOG_CLIENT_BUFFER": "123",
        },
        str(tmp_path),
    )
    assert config.address == Address(unix_path="/tmp/x.sock")
    assert config.log_level == "warn"
    assert config.batch_events is False
    assert (config.max_events_per_batch, config.batch_interval_ms, config.buffer_size) == (10, 20, 123)
    assert not config.enabled_for("server")
    assert not config.enabled_for("middleware")
    assert config.enabled_for("client")
    assert config.enabled_for("worker")


def test_dotenv_files_rank_below_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=error\nBATCH_INTERVAL_MS=100\nMAX_EVENTS_PER_BATCH=7\n")
    (tmp_path / ".env.local").write_text(
        '# an app\'s .env\nexport LOG_LEVEL="info" # debug|info|warn|error\nBATCH_INTERVAL_MS=5000\n'
    )
    config = load_client_config({"BATCH_INTERVAL_MS": "1"}, str(tmp_path))
    assert config.log_level == "info"  # .env.local beats .env
    assert config.batch_interval_ms == 1  # the environment beats both
    assert config.max_events_per_batch == 7


def test_read_dotenv_formats(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nexport B = two words # comment\nC='x # not a comment'\n\n# D=4\nnonsense\nE=\n")
    assert read_dotenv(str(path)) == {"A": "1", "B": "two words", "C": "x # not a comment", "E": ""}
    assert read_dotenv(str(tmp_path / "missing")) == {}


def test_bad_values_keep_the_default_and_say_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_client_config(
        {
            "LOG_LEVEL": "loud",
            "BATCH_EVENTS": "maybe",
            "MAX_EVENTS_PER_BATCH": "0",
            "SIDELOG_ADDRESS": "nowhere",
        },
        str(tmp_path),
    )
    defaults = ClientConfig()
    assert config.log_level == defaults.log_level
    assert config.batch_events is True
    assert config.max_events_per_batch == defaults.max_events_per_batch
    assert config.address == defaults.address
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4
    assert all(line.startswith("sidelog: ignoring ") for line in err)
    assert any("LOG_LEVEL='loud'" in line for line in err)
