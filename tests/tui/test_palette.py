"""The monitor's command palette (ctrl+p) driven by keys: go to a box, sort, state filter, actions, help."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Static

from kelaile_cli.services.monitor.model import SORT_KEYS
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.dialogs import ConfirmScreen, HelpScreen
from kelaile_cli.tui.fleet import FleetScreen
from kelaile_cli.tui.palette import monitor_commands
from kelaile_cli.tui.table import FleetTable
from tests.tui.conftest import EVENTS, recorded_app

pytestmark = pytest.mark.anyio

SERIALS = sorted({e.serial for e in EVENTS})


async def _palette(pilot, query: str) -> None:
    """Open the palette, type ``query``, wait for its hits, run the first."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    for _ in range(40):  # the palette searches in the background: wait for a highlighted hit (≤ 2 s)
        await pilot.pause(0.05)
        if pilot.app.screen.query_one("CommandList").highlighted is not None:
            break
    await pilot.press("enter")
    await pilot.pause(0.1)


async def test_go_to_box_by_serial_and_by_store():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _palette(pilot, f"go to box {SERIALS[5]}")
        assert isinstance(app.screen, BoxScreen) and app.screen.serial == SERIALS[5]
        store = app.model.boxes[SERIALS[7]].store
        assert store and sum(b.store == store for b in app.model.boxes.values()) >= 1
        await _palette(pilot, f"store {store}")  # from a box screen: back to the fleet, then the box
        assert isinstance(app.screen, BoxScreen) and app.model.boxes[app.screen.serial].store == store
        await pilot.press("escape")
        assert isinstance(app.screen, FleetScreen)
        assert app.screen.query_one("#fleet", FleetTable).cursor_key == app.target_box()


@pytest.mark.parametrize("key", SORT_KEYS)
async def test_sort_by_each_column(key):
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        if key == SORT_KEYS[0]:
            app.screen.set_sort("store")  # type: ignore[attr-defined]  (so that sorting by serial changes it)
        await _palette(pilot, f"sort by {key}")
        fleet = app.screen
        assert isinstance(fleet, FleetScreen) and fleet.sort == key
        table = fleet.query_one("#fleet", FleetTable)
        assert table.row_keys == [r[0] for r in app.model.rows(app.clock(), sort=key)]
        assert f"sort: {key}" in str(fleet.query_one("#summary", Static).render())


async def test_filter_by_state_and_back_to_all():
    app = recorded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#fleet", FleetTable)
        states = {s: app.model.boxes[s].status(app.clock())[0] for s in SERIALS}
        await _palette(pilot, "show degraded")
        degraded = sorted(s for s, st in states.items() if st == "degraded")
        assert degraded and table.row_keys == degraded
        assert f"only degraded · showing {len(degraded)} of 12" in str(app.screen.query_one("#summary").render())
        await _palette(pilot, "show offline")
        assert table.row_keys == sorted(s for s, st in states.items() if st == "offline")
        await _palette(pilot, "show all")
        assert table.row_keys == SERIALS


async def test_actions_are_greyed_and_refused_without_write():
    app = recorded_app(write=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_box(SERIALS[2])
        await pilot.pause()
        actions = [c for c in monitor_commands(app) if SERIALS[2] in c.title and not c.box]
        assert len(actions) == 5 and all(c.refused and "needs --write" in c.title for c in actions)
        await _palette(pilot, "reboot on")
        assert isinstance(app.screen, BoxScreen)  # no confirmation was asked for
        assert "refused: reboot needs --write" in str(app.screen.query_one("#status", Static).render())


async def test_with_write_a_palette_action_asks_for_confirmation_on_a_box_link_only():
    app = recorded_app(write=True)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_box(SERIALS[2])
        await pilot.pause()
        actions = [c for c in monitor_commands(app) if SERIALS[2] in c.title and not c.box]
        assert all(c.refused and "needs a box link" in c.title for c in actions)  # a recording: no link to act on
        app.box_source = lambda serial: object()  # type: ignore[assignment,method-assign,return-value]
        actions = [c for c in monitor_commands(app) if SERIALS[2] in c.title and not c.box]
        assert actions and not any(c.refused for c in actions)
        await _palette(pilot, "test print on")
        assert isinstance(app.screen, ConfirmScreen) and SERIALS[2] in app.screen.question
        await pilot.press("n")


async def test_help_toggles_from_the_palette():
    app = recorded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _palette(pilot, "help: keys")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
