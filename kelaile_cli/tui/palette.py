"""The monitor's command palette (``ctrl+p``): go to a box, sort, filter by state, the box actions, help.

The commands are built from the app's state each time the palette searches, so a box that appeared a
second ago can be found, and the actions say when they are refused (read-only without ``--write``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from kelaile_cli.services.monitor.model import DASH, SORT_KEYS, STATES

if TYPE_CHECKING:
    from kelaile_cli.tui.app import MonitorApp

__all__ = ["ACTION_TITLES", "MonitorCommands", "PaletteCommand", "monitor_commands"]

ACTION_TITLES = {
    "test-print": "test print",
    "reboot": "reboot",
    "config-set": "config set KEY=VALUE",
    "upload-profile": "upload a profile",
    "flash": "flash a firmware image",
}
MAX_BOX_HITS = 200  # "go to box" hits a search yields at most (the best ones are shown first anyway)
_GREY = "dim"


@dataclass(frozen=True)
class PaletteCommand:
    """One palette entry: what it shows, its help line, what it does; ``refused`` ones are shown dimmed."""

    title: str
    help: str
    run: Callable[[], object]
    refused: bool = False
    box: bool = False  # a "go to box" entry (many: searched, not listed on an empty prompt)

    def display(self) -> Content:
        return Content.styled(self.title, _GREY) if self.refused else Content(self.title)


def monitor_commands(app: MonitorApp) -> Iterator[PaletteCommand]:
    """Every command the palette offers right now."""
    target = app.target_box()
    for key in SORT_KEYS:
        yield PaletteCommand(f"sort by {key}", f"order the fleet by {key}", partial(app.set_sort, key))
    for state in (*STATES, None):
        what = f"only {state} boxes" if state else "every box (no state filter)"
        yield PaletteCommand(f"show {state or 'all'}", what, partial(app.set_state_filter, state))
    yield PaletteCommand("help: keys", "show or hide every key of the monitor", app.action_help)
    for name, title in ACTION_TITLES.items():
        if target is None:
            break
        refused = app.refusal(target)
        yield PaletteCommand(
            f"{title} on {target}" + (f" ({refused})" if refused else ""),
            f"refused: {refused}" if refused else "asks for a confirmation first",
            partial(app.request_action, target, name),
            refused=bool(refused),
        )
    for serial, box in app.model.boxes.items():
        title = f"go to box {serial}" + (f" · store {box.store}" if box.store else "")
        state = box.status(app.clock())[0]
        yield PaletteCommand(title, f"{state} · POS {box.profile or DASH}", partial(app.go_to_box, serial), box=True)


class MonitorCommands(Provider):
    """The monitor's own palette commands (Textual's system commands stay too)."""

    @property
    def monitor(self) -> MonitorApp:
        from kelaile_cli.tui.app import MonitorApp

        assert isinstance(self.app, MonitorApp)
        return self.app

    async def discover(self) -> Hits:
        """On an empty prompt: everything but the (possibly thousand) boxes."""
        for cmd in monitor_commands(self.monitor):
            if not cmd.box:
                yield DiscoveryHit(cmd.display(), cmd.run, cmd.title, cmd.help)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        boxes = 0
        for cmd in monitor_commands(self.monitor):
            score = matcher.match(cmd.title)
            if score <= 0 or (cmd.box and boxes >= MAX_BOX_HITS):
                continue
            boxes += cmd.box
            shown = matcher.highlight(cmd.title)
            if cmd.refused:
                shown = shown.stylize(_GREY)
            yield Hit(score, shown, cmd.run, cmd.title, cmd.help)
