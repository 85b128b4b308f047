"""Live facet counts: exact for ordinary data, bounded under a flood of distinct names."""

from __future__ import annotations

from sidelog.events import Event
from sidelog.pipeline.live import OTHER, FacetCounts


def event(category: str, source: str = "server", level: str = "info") -> Event:
    return Event(message="m", category=category, level=level, source=source, timestamp=1)


def test_counts_every_value_below_the_cap() -> None:
    facets = FacetCounts(max_values=10)
    facets.add([event("auth"), event("auth", "client"), event("payment", level="error")])
    assert facets.counts == {
        "level": {"info": 2, "error": 1},
        "category": {"auth": 2, "payment": 1},
        "source": {"server": 2, "client": 1},
    }
    assert facets.total == 3
    assert facets.take_overflows() == []


def test_a_flood_of_distinct_names_is_summed_under_other_and_reported_once() -> None:
    facets = FacetCounts(max_values=100)
    facets.add([event(f"category-{i}", f"source-{i}") for i in range(50_000)])
    facets.add([event("category-1"), event("brand-new")])
    assert len(facets.counts["category"]) == 101  # 100 names and OTHER
    assert len(facets.counts["source"]) == 101
    assert facets.counts["category"]["category-1"] == 2  # a tracked name keeps counting
    assert facets.counts["category"][OTHER] == 50_000 - 100 + 1
    assert sum(facets.counts["category"].values()) == facets.total == 50_002
    assert facets.take_overflows() == ["category", "source"]
    facets.add([event("another-new")])
    assert facets.take_overflows() == []  # once per run


def test_reset_from_the_store_keeps_the_largest_names() -> None:
    facets = FacetCounts(max_values=3)
    stored = {f"c{i}": i + 1 for i in range(10)}  # c9 is the largest
    facets.reset({"level": {"info": 55}, "category": stored, "source": {"server": 55}})
    assert facets.counts["category"] == {"c9": 10, "c8": 9, "c7": 8, OTHER: 28}
    assert facets.total == 55
    assert facets.take_overflows() == ["category"]


def test_an_overflow_becomes_one_warning_event() -> None:
    from sidelog.pipeline.housekeeping import report_facet_overflow

    recorded: list[tuple[str, str, object]] = []
    facets = FacetCounts(max_values=5)
    facets.add([event(f"c{i}") for i in range(50)])
    for _ in range(3):
        report_facet_overflow(
            facets, lambda level, message, details: recorded.append((level, message, details))
        )
    assert recorded == [
        (
            "warn",
            "more than 5 distinct category names: the rest are counted as (other)",
            {"facet": "category", "limit": 5},
        )
    ]
