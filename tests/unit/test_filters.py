"""EventFilter: the in-memory ``matches`` and the SQL twin must agree; params round-trip."""

from __future__ import annotations

import sqlite3

import pytest

from sidelog.events import Event
from sidelog.filters import EMPTY_FILTER, EventFilter, parse_time
from sidelog.store.models import event_to_row
from sidelog.store.reader import filter_sql
from sidelog.store.schema import INSERT_EVENTS_SQL

EVENTS = [
    Event(message="Login ok", category="auth", level="info", source="server", user_id="u1", timestamp=100),
    Event(
        message="card declined",
        category="payment",
        level="error",
        source="client",
        user_id="u2",
        session_id="s2",
        timestamp=200,
        details='{"card": "visa_50%_off"}',
        fingerprint="fp1",
    ),
    Event(message="slow query", category="api", level="warn", source="api", timestamp=300),
    Event(message="debugging", category="ui", level="debug", source="client", user_id="u1", timestamp=400),
]

FILTERS = [
    EMPTY_FILTER,
    EventFilter(levels=frozenset({"warn", "error"})),
    EventFilter(categories=frozenset({"auth"})),
    EventFilter(sources=frozenset({"client"}), user="u1"),
    EventFilter(session="s2"),
    EventFilter(q="LOGIN"),
    EventFilter(q="50%"),
    EventFilter(q="_50"),
    EventFilter(since=200, until=400),
    EventFilter(fingerprint="fp1"),
    EventFilter(levels=frozenset({"info"}), categories=frozenset({"payment"})),
]


@pytest.fixture(scope="module")
def db() -> sqlite3.Connection:
    """The real ``events`` schema in memory, holding ``EVENTS``."""
    from sqlalchemy import create_engine

    from sidelog.store.schema import metadata

    engine = create_engine("sqlite://")  # one shared in-memory connection (SingletonThreadPool)
    metadata.create_all(engine)
    raw = engine.raw_connection().driver_connection
    assert raw is not None
    raw.executemany(INSERT_EVENTS_SQL, [event_to_row(e, i + 1) for i, e in enumerate(EVENTS)])
    return raw


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f.to_query_string() or "empty")
def test_sql_and_memory_agree(db: sqlite3.Connection, flt: EventFilter) -> None:
    terms, params = filter_sql(flt)
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    in_sql = [row[0] for row in db.execute(f"SELECT id FROM events{where} ORDER BY id", params)]
    in_memory = [i + 1 for i, event in enumerate(EVENTS) if flt.matches(event)]
    assert in_sql == in_memory


def test_expected_matches() -> None:
    assert [e.message for e in EVENTS if EventFilter(q="50%").matches(e)] == ["card declined"]
    assert [e.message for e in EVENTS if EventFilter(since=200, until=400).matches(e)] == [
        "card declined",
        "slow query",
    ]


def test_params_round_trip() -> None:
    flt = EventFilter(
        levels=frozenset({"warn", "error"}),
        categories=frozenset({"auth"}),
        user="u 1",
        q="a&b",
        since=5,
        fingerprint="abc",
    )
    assert EventFilter.from_params(flt.to_params()) == flt
    assert flt.to_query_string().startswith("?level=error&level=warn&category=auth")
    assert EMPTY_FILTER.to_query_string() == ""
    assert EMPTY_FILTER.is_empty
    assert not flt.is_empty


def test_from_params_normalises_and_splits() -> None:
    flt = EventFilter.from_params([("level", "WARNING,err"), ("category", "Auth, UI"), ("user", "")])
    assert flt.levels == {"warn", "error"}
    assert flt.categories == {"auth", "ui"}
    assert flt.user is None
    with pytest.raises(ValueError, match="level 'loud' is not a level"):
        EventFilter.from_params({"level": "loud"})
    with pytest.raises(ValueError, match="since must be"):
        EventFilter.from_params({"since": "last week"})


def test_toggled() -> None:
    flt = EMPTY_FILTER.toggled("levels", "error")
    assert flt.levels == {"error"}
    assert flt.toggled("levels", "error").is_empty


def test_parse_time() -> None:
    assert parse_time("1700000000000", "since") == 1_700_000_000_000
    assert parse_time("2024-01-01T00:00:00Z", "since") == 1_704_067_200_000
