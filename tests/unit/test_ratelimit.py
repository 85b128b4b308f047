"""Per-(source, category) fixed-window rate limits and their once-per-window reports."""

from __future__ import annotations

from sidelog.pipeline.ratelimit import RateLimiter, RateLimitReport


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_drop_per_key() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 30.0, clock)
    assert [limiter.allow("server", "api") for _ in range(5)] == [True, True, True, False, False]
    # other keys have their own budget
    assert limiter.allow("client", "api")
    assert limiter.allow("server", "auth")
    assert limiter.take_reports() == []  # the window has not ended yet


def test_report_once_per_window_with_the_drop_count() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 30.0, clock)
    for _ in range(7):
        limiter.allow("server", "api")
    limiter.allow("client", "ui")
    clock.now += 30.0
    assert limiter.take_reports() == [RateLimitReport("server", "api", 5, 30.0)]
    assert limiter.take_reports() == []
    # a fresh window has a fresh burst
    assert limiter.allow("server", "api")
    assert limiter.allow("server", "api")
    assert not limiter.allow("server", "api")


def test_window_rollover_inside_allow_keeps_the_report() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, 10.0, clock)
    limiter.allow("api", "x")
    limiter.allow("api", "x")
    clock.now += 10.0
    assert limiter.allow("api", "x")  # starts a new window, queues the old one's report
    assert limiter.take_reports() == [RateLimitReport("api", "x", 1, 10.0)]


def test_burst_zero_disables_limits() -> None:
    limiter = RateLimiter(0, 30.0, FakeClock())
    assert all(limiter.allow("server", "api") for _ in range(100_000))
    assert limiter.take_reports() == []


def test_a_source_varying_its_category_is_held_to_the_source_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 30.0, clock, source_burst=10)
    allowed = sum(limiter.allow("server", f"category-{i}") for i in range(1_000))
    assert allowed == 10
    assert limiter.allow("client", "ui")  # another source keeps its own budget
    clock.now += 30.0
    assert RateLimitReport("server", "*", 990, 30.0) in limiter.take_reports()
    assert limiter.allow("server", "category-x")  # a new window, a new budget


def test_the_source_tier_defaults_to_five_category_bursts() -> None:
    limiter = RateLimiter(2, 30.0, FakeClock())
    assert limiter.source_burst == 10
    assert sum(limiter.allow("api", str(i)) for i in range(100)) == 10


def test_distinct_categories_beyond_the_cap_share_one_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 30.0, clock, source_burst=0, max_keys=100)
    for i in range(200_000):
        limiter.allow("server", f"name-{i}")
    assert limiter.tracked <= 101  # memory stays bounded whatever the flood
    clock.now += 30.0
    reports = limiter.take_reports()
    assert RateLimitReport("server", "*other*", 200_000 - 100 - 2, 30.0) in reports
    assert limiter.tracked == 0
