"""The errors pane's triage aids, in the real app: ``z`` snoozes (and wakes) a group, groups new
since the last look are marked (across restarts), a regression rings the bell once, and each
row shows its reports and sparkline."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from textual.pilot import Pilot

from sidelog.config import Settings
from sidelog.events import now_ms
from sidelog.tui.screens.feedback import FeedbackScreen
from sidelog.tui.screens.prompt import PromptScreen
from sidelog.tui.widgets.errors import ErrorsPane
from sidelog.tui.widgets.errors_watch import RegressionBell
from tests.support.group_events import error, feedback, write_events
from tests.support.groups import BASE_MS, add_groups
from tests.tui.conftest import query_db, running_app, send_events, until


def texts(pane: ErrorsPane) -> list[str]:
    return [str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count)]


def toasts(pilot: Pilot[Any]) -> list[str]:
    return [str(notification.message) for notification in pilot.app._notifications]


def failure(message: str) -> dict[str, Any]:
    return {"type": "error", "category": "payment", "message": message}


async def test_z_snoozes_a_group_out_of_the_list_and_wakes_it(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, failure("keeps failing"), failure("other failure"))
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        pane.highlighted = [g.message for g in pane.groups].index("keeps failing")
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("enter")  # the offered 1h
        await until(pilot, lambda: [g.message for g in pane.groups] == ["other failure"])
        assert "1 snoozed" in str(pane.border_title)
        assert any("Snoozed (1h): payment: keeps failing" in toast for toast in toasts(pilot))
        assert query_db(settings.db, "SELECT count(*) FROM group_snoozes") == [(1,)]

        # A bad answer is refused in one line and snoozes nothing.
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("backspace", "backspace", "1", "0", "enter")
        await until(pilot, lambda: any("10 is ambiguous" in toast for toast in toasts(pilot)))
        assert query_db(settings.db, "SELECT count(*) FROM group_snoozes") == [(1,)]

        # Listed with `t`, the snoozed group says so; `z` wakes it.
        await pilot.press("t")
        await until(pilot, lambda: len(pane.groups) == 2)
        pane.highlighted = [g.message for g in pane.groups].index("keeps failing")
        assert "snoozed 1h" in texts(pane)[pane.highlighted or 0]
        await pilot.press("z")
        await until(pilot, lambda: query_db(settings.db, "SELECT count(*) FROM group_snoozes") == [(0,)])
        await pilot.press("t")
        await until(pilot, lambda: len(pane.groups) == 2 and "snoozed" not in str(pane.border_title))


async def test_a_snoozed_group_comes_back_when_its_time_has_passed(settings: Settings) -> None:
    clock = [now_ms() + 60_000]  # ahead of the events' arrival, as a real clock would be at the snooze
    async with running_app(settings, clock=lambda: clock[0]) as (app, pilot):
        await send_events(app, failure("for an hour"))
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 1)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("enter")
        await until(pilot, lambda: pane.groups == [])
        clock[0] += 3_600_001
        await send_events(app, failure("something else"))  # any reload now lists it again
        await until(pilot, lambda: {g.message for g in pane.groups} == {"for an hour", "something else"})


async def test_groups_new_since_the_last_look_are_marked_across_restarts(settings: Settings) -> None:
    add_groups(settings.db, 5)
    with contextlib.closing(sqlite3.connect(settings.db, isolation_level=None)) as conn:
        conn.execute("UPDATE error_groups SET first_seen = last_seen")  # group i: BASE_MS + i s
        conn.execute("INSERT INTO view_marks (name, looked_at) VALUES ('errors', ?)", (BASE_MS + 2500,))
    clock = [BASE_MS + 60_000]
    async with running_app(settings, clock=lambda: clock[0]) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 5)
        new = {g.fingerprint for g, text in zip(pane.groups, texts(pane), strict=True) if "✦ new" in text}
        assert new == {"fp000003", "fp000004"}  # first seen after the look
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        looked = "SELECT looked_at FROM view_marks"
        await until(pilot, lambda: query_db(settings.db, looked) == [(BASE_MS + 60_000,)])
        assert sum("✦ new" in text for text in texts(pane)) == 2  # kept while looking
        clock[0] += 1000
        await pilot.press("e")  # leave the pane: what it showed has been seen
        await until(pilot, lambda: not any("✦ new" in text for text in texts(pane)))
        await until(pilot, lambda: query_db(settings.db, looked) == [(BASE_MS + 61_000,)])
    add_groups(settings.db, 1, start=100)  # first seen 100 s after BASE_MS: after the last look
    async with running_app(settings, clock=lambda: clock[0]) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 6)
        assert [g.fingerprint for g, t in zip(pane.groups, texts(pane), strict=True) if "✦ new" in t] == [
            "fp000100"
        ]


async def test_a_regression_rings_the_bell_once_even_in_a_flood(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        rings: list[int] = []
        app.bell = lambda: rings.append(1)  # type: ignore[method-assign]  # count the real calls
        lines = [failure(f"failure number {word}") for word in ("one", "two", "three")]
        await send_events(app, *lines)
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 3)
        assert app.engine is not None
        for group in pane.groups:
            await app.engine.resolve(group.fingerprint)
        await send_events(app, *lines, *lines)  # all three regress, twice over
        await until(
            pilot, lambda: any(t.startswith("Regressed: payment: failure number") for t in toasts(pilot))
        )
        regressed = [t for t in toasts(pilot) if t.startswith("Regressed:")]
        assert len(regressed) == 1
        assert regressed[0].endswith("and 2 more groups")
        assert rings == [1]
        await send_events(app, lines[0])  # the same regression again: no second bell
        await until(pilot, lambda: pane.groups[0].count == 4)
        assert rings == [1]


def test_the_bell_names_each_regression_once_and_waits_between_toasts() -> None:
    tick = [100.0]
    bell = RegressionBell(0, quiet=5.0, monotonic=lambda: tick[0])
    add_groups_free = [_group("a", 10), _group("b", 10)]
    bell.observe(add_groups_free, 100_000)
    assert bell.take() == "Regressed: payment: failure a, and 1 more group"
    bell.observe(add_groups_free, 200_000)  # the same two regressions: nothing new
    assert bell.wait() is None
    bell.observe([_group("a", 20)], 300_000)  # resolved again, regressed again: a new one
    assert bell.wait() == 5.0
    assert bell.take() is None
    tick[0] += 5.0
    assert bell.take() == "Regressed: payment: failure a"
    assert bell.since == 300_000 - 60_000


def _group(name: str, resolved_at: int) -> Any:
    from sidelog.store.models import ErrorGroup

    return ErrorGroup(name, "payment", f"failure {name}", 2, 0, 1, 1, "unresolved", resolved_at, None, True)


async def test_rows_show_reports_and_the_days_sparkline(settings: Settings) -> None:
    add_groups(settings.db, 2)
    now = now_ms()
    write_events(
        settings.db,
        [
            *[error("fp000001", now - 3_600_000 * hours) for hours in (20, 3, 3, 1)],
            feedback(["fp000001"], now, user="u1"),
            feedback(["fp000001", "fp000000"], now, user="u2"),
        ],
    )
    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2 and all("✉" in text for text in texts(pane)))
        rows = dict(zip([g.fingerprint for g in pane.groups], texts(pane), strict=True))
        assert "✉ 2 reported" in rows["fp000001"]
        assert "✉ 1 reported" in rows["fp000000"]
        spark = rows["fp000001"].split("\n")[0].split()[-1]
        assert len(spark) == 12
        assert spark[-1] != "▁" or spark[-2] != "▁"  # the last hours had events
        assert set(rows["fp000000"].split("\n")[0].split()[-1]) == {"▁"}  # a quiet day


async def test_f_in_the_errors_pane_opens_the_highlighted_groups_feedback(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        await send_events(app, failure("keeps failing"), failure("other failure"))
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 2)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        pane.highlighted = [g.message for g in pane.groups].index("other failure")
        chosen = pane.groups[pane.highlighted].fingerprint
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        assert isinstance(app.screen, FeedbackScreen)
        assert app.screen.fingerprint == chosen
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, FeedbackScreen))
