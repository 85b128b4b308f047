"""Text search means the same live (``EventFilter.matches``) and in the store (SQL)."""

from __future__ import annotations

import itertools
import sqlite3

import pytest

from sidelog import search
from sidelog.events import Event
from sidelog.filters import EventFilter
from sidelog.store.reader import filter_sql

TEXTS = [
    "ÄRGER im Lager",
    "Ärger",
    "STRASSE",
    "Straße 5",
    "Kelvin \u212a and long \u017fs",
    "İstanbul",
    "plain ascii Timeout",
    "50%_off \\ path",
    "ﬁle ligature",
    "",
]
NEEDLES = ["ärger", "ÄRGER", "straße", "STRASSE", "k", "s", "i", "timeout", "TIMEOUT", "%_o", "\\", "ﬁ", "fi"]


@pytest.fixture
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    search.register(conn)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, message TEXT NOT NULL, details TEXT)")
    conn.executemany(
        "INSERT INTO events (message, details) VALUES (?, ?)",
        [(text, None) for text in TEXTS] + [("-", f'{{"note": "{text}"}}') for text in TEXTS],
    )
    return conn


@pytest.mark.parametrize("needle", NEEDLES)
def test_the_store_finds_exactly_what_the_live_filter_keeps(conn: sqlite3.Connection, needle: str) -> None:
    flt = EventFilter(q=needle)
    terms, params = filter_sql(flt)
    found = {row[0] for row in conn.execute(f"SELECT id FROM events WHERE {' AND '.join(terms)}", params)}
    rows = conn.execute("SELECT id, message, details FROM events").fetchall()
    kept = {id_ for id_, message, details in rows if flt.matches(Event(message=message, details=details))}
    assert found == kept


def test_case_is_folded_for_every_alphabet_not_only_ascii() -> None:
    assert search.matches("ärger", "ÄRGER im Lager", None)
    assert search.matches("Straße", "STRASSE", None)
    assert search.matches("timeout", "", '{"error": "TIMEOUT"}')
    assert not search.matches("timeout", "time out", None)
    # An ASCII needle folds A-Z only, as SQLite's LIKE does: the Kelvin sign stays itself.
    assert not search.matches("k", "\u212a", None)


def test_every_pair_of_needle_and_text_agrees_between_the_two_ways(conn: sqlite3.Connection) -> None:
    for needle, text in itertools.product(NEEDLES, TEXTS):
        term, params = search.search_sql(needle)
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT ? AS message, NULL AS details) WHERE {term}", [text, *params]
        )
        assert bool(row.fetchone()[0]) == search.matches(needle, text, None), (needle, text)
