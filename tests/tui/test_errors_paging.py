"""The errors pane over more groups than one page: read as the cursor nears the end, ``end``
reaches the very last group, ``o`` reorders, each row names its exception type."""

from __future__ import annotations

from sidelog.config import Settings
from sidelog.tui.widgets.errors import GROUP_LIMIT, ErrorsPane
from sidelog.tui.widgets.errors_rows import WINDOW
from tests.support.groups import add_groups
from tests.tui.conftest import query_db, running_app, send_events, until

MANY = 1_200
STATUS_SQL = "SELECT status, count(*) FROM error_groups GROUP BY status"


def fingerprints(pane: ErrorsPane) -> list[str]:
    return [group.fingerprint for group in pane.groups]


def contiguous(names: list[str]) -> bool:
    """Consecutive groups of the default order (``add_groups``: newest is the highest number)."""
    numbers = [int(name[2:]) for name in names]
    return numbers == list(range(numbers[0], numbers[0] - len(numbers), -1))


async def test_every_group_is_reachable_a_page_at_a_time(settings: Settings) -> None:
    add_groups(settings.db, MANY)
    everything = [f"fp{i:06d}" for i in reversed(range(MANY))]
    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == GROUP_LIMIT)
        assert pane.border_title == f"Unresolved errors · {MANY} (newest {GROUP_LIMIT})"
        assert fingerprints(pane) == everything[:GROUP_LIMIT]  # newest activity first

        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        await pilot.press(*["pagedown"] * 5)
        await until(pilot, lambda: len(pane.groups) > GROUP_LIMIT)  # the next page, read near the end

        # Scrolling down the whole list: each group once, in order, never more than a window.
        seen = fingerprints(pane)
        while seen[-1] != everything[-1]:
            last = pane.groups[-1].fingerprint
            pane.highlighted = len(pane.groups) - 1
            await until(pilot, lambda last=last: pane.groups[-1].fingerprint != last)  # type: ignore[misc]
            listed = fingerprints(pane)
            assert len(listed) <= WINDOW
            assert contiguous(listed)
            seen.extend(listed[listed.index(last) + 1 :])
        assert seen == everything

        await pilot.press("home")
        await until(pilot, lambda: fingerprints(pane)[:1] == everything[:1] and pane.highlighted == 0)
        await pilot.press("end")
        await until(
            pilot,
            lambda: pane.highlighted_group is not None and pane.highlighted_group.fingerprint == "fp000000",
        )
        assert len(pane.groups) <= WINDOW
        assert contiguous(fingerprints(pane))
        assert pane.border_title == f"Unresolved errors · {MANY}"

        # Up from the top of the window reads the page before it.
        first = pane.groups[0].fingerprint
        pane.highlighted = 0
        await until(pilot, lambda: pane.groups[0].fingerprint != first)
        assert contiguous(fingerprints(pane))
        assert pane.highlighted_group is not None
        assert pane.highlighted_group.fingerprint == first  # the cursor stayed on its group


async def test_o_cycles_the_order_shown_in_the_title(settings: Settings) -> None:
    add_groups(settings.db, 300)
    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == GROUP_LIMIT)
        newest = [group.fingerprint for group in pane.groups]
        await pilot.press("e", "o")
        await until(pilot, lambda: "by count" in str(pane.border_title))
        await until(pilot, lambda: [g.fingerprint for g in pane.groups] != newest)
        counts = [group.count for group in pane.groups]
        assert counts == sorted(counts, reverse=True)
        assert counts[0] == 97  # the largest of all 300, not of the newest page

        await pilot.press("o")
        await until(pilot, lambda: "by first seen" in str(pane.border_title))
        await until(pilot, lambda: pane.groups[0].first_seen == max(g.first_seen for g in pane.groups))
        firsts = [group.first_seen for group in pane.groups]
        assert firsts == sorted(firsts, reverse=True)

        await pilot.press("end")
        await until(pilot, lambda: pane.highlighted == len(pane.groups) - 1 and len(pane.groups) < 200)
        firsts = [group.first_seen for group in pane.groups]
        assert firsts == sorted(firsts, reverse=True)
        assert firsts[-1] == min(firsts)  # the last page of all 300

        await pilot.press("o")
        await until(pilot, lambda: "by regressed" in str(pane.border_title))
        await pilot.press("o")  # back to the default order: the title no longer names it
        await until(pilot, lambda: pane.border_title == "Unresolved errors · 300 (newest 100)")
        assert [group.fingerprint for group in pane.groups] == newest


async def test_rows_name_the_exception_type(settings: Settings) -> None:
    async with running_app(settings) as (app, pilot):
        same = {"message": "could not load the cart", "type": "error", "category": "cart"}
        await send_events(
            app,
            {**same, "details": {"exception": {"type": "KeyError", "stack": "x"}}},
            {**same, "details": {"exception": {"values": [{"type": "TimeoutError", "value": "t"}]}}},
            {**same, "category": "plain"},
            {"message": "SyntaxError: Unexpected token", "type": "error", "category": "web",
             "details": {"exception": {"type": "SyntaxError", "stack": "SyntaxError: Unexpected token"}}},
        )  # fmt: skip
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 4)
        prompts = [str(pane.get_option_at_index(i).prompt) for i in range(4)]
        # A message that already starts with its type is not prefixed with it again.
        assert sum("web: SyntaxError: Unexpected token" in prompt for prompt in prompts) == 1
        assert not any("SyntaxError: SyntaxError" in prompt for prompt in prompts)
        assert sum("KeyError: could not load the cart" in prompt for prompt in prompts) == 1
        assert sum("TimeoutError: could not load the cart" in prompt for prompt in prompts) == 1
        assert sum("plain: could not load the cart" in prompt for prompt in prompts) == 1


async def test_resolve_all_asks_then_resolves_every_group_and_u_undoes_it(settings: Settings) -> None:
    add_groups(settings.db, 60)  # one write each: kept small
    async with running_app(settings) as (app, pilot):
        pane = app.query_one(ErrorsPane)
        await until(pilot, lambda: len(pane.groups) == 60)
        await pilot.press("e")
        await until(pilot, lambda: pane.has_focus)
        assert not pane.check_action("undo_bulk", ())
        await pilot.press("R", "n")  # asked first: "n" changes nothing
        await pilot.press("R", "y")
        await until(pilot, lambda: query_db(settings.db, STATUS_SQL) == [("resolved", 60)])
        await until(pilot, lambda: pane.border_title == "Unresolved errors · 0")
        assert pane.groups == []
        assert pane.check_action("undo_bulk", ())

        await pilot.press("U")
        await until(pilot, lambda: query_db(settings.db, STATUS_SQL) == [("unresolved", 60)])
        await until(pilot, lambda: len(pane.groups) == 60)
        assert not pane.check_action("undo_bulk", ())
