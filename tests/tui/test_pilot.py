"""The monitor driven by keys (Textual's Pilot): filter, sort, drill-down, offline transitions, refusals."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from kelaile_cli.services.monitor.events import MonitorEvent
from kelaile_cli.services.monitor.model import OFFLINE_AFTER
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.dialogs import HelpScreen
from kelaile_cli.tui.fleet import COLUMN_WIDTHS, FleetScreen
from kelaile_cli.tui.table import FleetTable
from tests.tui.conftest import END, EVENTS, recorded_app

pytestmark = pytest.mark.anyio

SERIALS = sorted({e.serial for e in EVENTS})


def _keys(table: FleetTable) -> list[str]:
    return table.row_keys


async def test_filter_narrows_rows_and_escape_restores_them():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        assert _keys(table) == SERIALS
        await pilot.press("slash", *"KLB000003")
        await pilot.pause()
        assert _keys(table) == ["KLB000003"]
        assert "showing 1 of 12" in str(app.screen.query_one("#summary", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert _keys(table) == SERIALS


async def test_sort_cycles_and_orders_by_the_chosen_key():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("s")
        assert screen.sort == "store"
        await pilot.press("s", "s", "s")  # state, last receipt, rate
        assert screen.sort == "rate"
        table = screen.query_one("#fleet", FleetTable)
        rates = [int(table.cell(k, "/min")) for k in _keys(table)]
        assert rates == sorted(rates, reverse=True) and rates[0] > 0


async def test_enter_drills_down_and_escape_comes_back():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        first = _keys(table)[0]
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BoxScreen) and app.screen.serial == first
        last_text = app.model.boxes[first].receipts[-1]["text"]
        paper = str(app.screen.query_one("#paper", Static).render())
        assert last_text.splitlines()[1] in paper
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)


async def test_a_silent_box_goes_offline_and_a_link_drop_shows_its_reason():
    app = recorded_app()
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        serial = SERIALS[0]
        app.feed.emit(MonitorEvent("link", serial, END + 2, {"up": False, "reason": "port /dev/ttyACM0 vanished"}))
        await pilot.pause(0.2)
        assert table.cell(serial, "state") == "offline: port /dev/ttyACM0 vanished"
        app.test_clock[0] = END + OFFLINE_AFTER + 60  # nobody heard from for a long time
        await pilot.pause(0.2)
        states = {k: table.cell(k, "state") for k in _keys(table)}
        assert all(s.startswith("offline") for s in states.values()), states
        assert "offline 12" in str(app.screen.query_one("#summary", Static).render())


async def test_actions_are_refused_without_write():
    app = recorded_app(write=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_box(SERIALS[1])
        await pilot.pause()
        for key in ("t", "r", "c", "u", "f"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, BoxScreen)  # no confirmation dialog was opened
            assert "needs --write" in str(app.screen.query_one("#status", Static).render())


async def test_with_write_an_action_asks_first_and_needs_a_box_link():
    app = recorded_app(write=True)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_box(SERIALS[1])
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert "needs a box link" in str(app.screen.query_one("#status", Static).render())


async def test_help_lists_every_key_and_closes():
    app = recorded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)


async def test_no_color_and_term_linux_draw_both_screens(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "linux")
    app = recorded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_box(SERIALS[0])
        await pilot.pause(0.2)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FleetScreen) and app.return_code is None
        assert app.no_color


async def test_long_serials_are_shortened_in_the_middle_so_rows_stay_apart():
    app = recorded_app()
    for n in (1, 2):
        app.feed.emit(MonitorEvent("heartbeat", f"replay-7faf3d52a1b2c3-000{n}", END, {}))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        table = app.screen.query_one("#fleet", FleetTable)
        lines = [table.render_line(y).text for y in range(1, table.row_count + 1)]
        starts = [line.split(" ", 1)[0] for line in lines if line.startswith("replay")]
        assert len(starts) == 2 and all("…" in s and len(s) == COLUMN_WIDTHS[0] for s in starts)
        assert starts[0].endswith("-0001") and starts[1].endswith("-0002")


async def test_the_cloud_down_is_a_banner_and_goes_away_when_it_is_back():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        banner = app.screen.query_one("#banner", Static)
        assert not banner.display or not banner.has_class("shown")
        app.feed.emit(MonitorEvent("cloud", "", END, {"ok": False, "reason": "cloud http://x unreachable"}))
        await pilot.pause(0.2)
        assert banner.has_class("shown") and "unreachable; retrying" in str(banner.render())
        app.feed.emit(MonitorEvent("cloud", "", END, {"ok": True, "reason": ""}))
        await pilot.pause(0.2)
        assert not banner.has_class("shown")


async def test_rows_that_changed_while_a_box_screen_was_open_are_drawn_on_return():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        assert table.cell(SERIALS[3], "state").startswith("online")
        app.open_box(SERIALS[0])
        await pilot.pause(0.1)
        app.feed.emit(MonitorEvent("link", SERIALS[3], END + 1, {"up": False, "reason": "cable pulled"}))
        await pilot.pause(0.3)  # ticks happen with the box screen on top
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert table.cell(SERIALS[3], "state") == "offline: cable pulled"
        assert "offline 1" in str(app.screen.query_one("#summary", Static).render())


async def test_at_80_columns_scrolling_right_keeps_the_serial_column():
    app = recorded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        assert "link" not in table.render_line(0).text  # the last columns are off screen
        for _ in range(60):
            await pilot.press("right")
        await pilot.pause()
        assert table.scroll_offset.x > 0
        header, first = table.render_line(0).text, table.render_line(1).text
        assert header.startswith("serial ") and header.rstrip().endswith("link")
        assert first.startswith(table.row_keys[0]) and len(first) == 80
