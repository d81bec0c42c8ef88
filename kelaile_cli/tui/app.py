"""``MonitorApp``: the Textual application behind ``klx monitor``.

Sources run in workers (threads for boxes and recordings, an asyncio task for the cloud) and hand
events to a ``Feed``; a timer drains it a few times a second, applies the batch to the model and
redraws the screen on top — so a burst of events costs one redraw, and only changed cells are touched.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ScreenStackError
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches

from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.services.monitor.sources import Action, BoxSource, CloudSource, ReplaySource
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.dialogs import ConfigScreen, ConfirmScreen, FileScreen, HelpScreen, Picked, candidates
from kelaile_cli.tui.fleet import FleetScreen
from kelaile_cli.tui.palette import MonitorCommands

__all__ = ["REFRESH_S", "MonitorApp"]

REFRESH_S = 0.25  # screen updates: at most 4 a second, however many events arrive
ACTION_TIMEOUT_S = 10.0
FLASH_TIMEOUT_S = 900.0  # a whole image at 115200 baud, a reboot and a trial boot
Source = BoxSource | CloudSource | ReplaySource
_QUESTIONS = {"test-print": "Print a test page on box {serial}?", "reboot": "Reboot box {serial}?"}


class MonitorApp(App[None]):
    """The fleet screen first; ``enter`` opens a box, ``esc`` comes back."""

    TITLE = "klx monitor"
    COMMANDS = App.COMMANDS | {MonitorCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
    ]

    def __init__(
        self,
        feed: Feed,
        sources: Iterable[Source] = (),
        *,
        write: bool = False,
        clock: Callable[[], float] = time.time,
        refresh_s: float = REFRESH_S,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.model: FleetModel = feed.model
        self.sources = list(sources)
        self.write = write
        self.clock = clock
        self.refresh_s = refresh_s
        self.stopping = threading.Event()
        self.redraws = 0
        self.running: dict[str, Action] = {}  # serial -> the write action under way on that box

    def on_mount(self) -> None:
        self.feed.drain()
        self.push_screen(FleetScreen())
        for source in self.sources:
            if isinstance(source, CloudSource):
                self.run_worker(source.run(self.feed.emit, self.stopping), group="sources", exit_on_error=False)
            else:
                self.run_worker(self._blocking(source), thread=True, group="sources", exit_on_error=False)
        self.ticker = self.set_interval(self.refresh_s, self.tick)

    def _blocking(self, source: BoxSource | ReplaySource) -> Callable[[], None]:
        return lambda: source.run(self.feed.emit, self.stopping)

    def tick(self) -> None:
        """Apply what arrived since the last tick and redraw the screen on top (once)."""
        self.feed.drain()
        self.redraw()

    def redraw(self) -> None:
        try:
            screen = self.screen
        except ScreenStackError:  # starting or quitting: nothing to draw on
            return
        if isinstance(screen, FleetScreen | BoxScreen) and screen.ready:
            try:
                screen.redraw()
            except NoMatches:  # the screen is being torn down (quitting)
                return
            self.redraws += 1

    def on_unmount(self) -> None:
        self.stopping.set()

    # -- navigation --------------------------------------------------------------------------------
    def open_box(self, serial: str) -> None:
        self.push_screen(BoxScreen(serial))

    def action_help(self) -> None:
        """Open the key help, or close it when it is open (``?`` and the palette toggle it)."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen())

    def fleet_screen(self) -> FleetScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, FleetScreen)), None)

    def show_fleet(self) -> FleetScreen | None:
        """Close whatever is above the fleet screen (box screens, dialogs); the fleet screen."""
        fleet = self.fleet_screen()
        while fleet is not None and self.screen is not fleet and len(self.screen_stack) > 1:
            self.pop_screen()
        return fleet

    def go_to_box(self, serial: str) -> None:
        """The palette's "go to box": the fleet's cursor on it, and its screen open."""
        fleet = self.show_fleet()
        if fleet is not None:
            fleet.point_at(serial)
        self.open_box(serial)

    def set_sort(self, key: str) -> None:
        fleet = self.show_fleet()
        if fleet is not None:
            fleet.set_sort(key)

    def set_state_filter(self, state: str | None) -> None:
        fleet = self.show_fleet()
        if fleet is not None:
            fleet.set_state(state)

    def target_box(self) -> str | None:
        """The box the actions apply to: the one on screen, else the one under the fleet's cursor."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, BoxScreen):
                return screen.serial
            if isinstance(screen, FleetScreen):
                return screen.cursor_box()
        return None

    def refusal(self, serial: str) -> str:
        """Why write actions on ``serial`` are refused ("" when they are allowed)."""
        if not self.write:
            return "needs --write (klx monitor is read-only by default)"
        if self.box_source(serial) is None:
            return "needs a box link (--port/--box), not a cloud or a recording"
        return ""

    # -- write actions -------------------------------------------------------------------------------
    def box_source(self, serial: str) -> BoxSource | None:
        for source in self.sources:
            if isinstance(source, BoxSource) and serial in (source.serial, source.target):
                return source
        return None

    def request_action(self, serial: str, name: str) -> None:
        """Refused without ``--write`` or without a box link; else asked for, confirmed, then run."""
        screen = self.screen
        say = screen.say if isinstance(screen, BoxScreen) else (lambda text: None)
        refused = self.refusal(serial)
        source = self.box_source(serial)
        if refused or source is None:
            say(f"refused: {name} {refused}")
            self.notify(f"{name} on {serial} refused: {refused}", severity="warning")
            return
        if serial in self.running and not self.running[serial].done.is_set():
            say(f"refused: {self.running[serial].name} is still running on box {serial}")
            return
        if name == "config-set":
            self.push_screen(ConfigScreen(), lambda kv: self._confirm_config(serial, source, kv, say))
            return
        if name in ("upload-profile", "flash"):
            self._ask_file(serial, source, name, say)
            return
        question = _QUESTIONS[name].format(serial=serial)
        self.push_screen(ConfirmScreen(question), lambda yes: self._run(source, Action(name), say) if yes else None)

    def _confirm_config(self, serial: str, source: BoxSource, kv: str | None, say: Callable[[str], None]) -> None:
        if not kv:
            return
        key, sep, value = kv.partition("=")
        if not sep or not key.strip():
            say(f"refused: expected KEY=VALUE, got {kv!r}")
            return
        parsed: Any = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
        action = Action("config-set", {key.strip(): parsed})
        self.push_screen(
            ConfirmScreen(f"Set {key.strip()} = {parsed!r} on box {serial}?"),
            lambda yes: self._run(source, action, say) if yes else None,
        )

    def _ask_file(self, serial: str, source: BoxSource, name: str, say: Callable[[str], None]) -> None:
        """Upload profile / flash: a file typed or picked, then a confirmation."""
        profile = name == "upload-profile"
        suffixes = (".yaml", ".yml") if profile else (".kfw",)
        title = f"Upload a profile to box {serial}" if profile else f"Flash a firmware image on box {serial}"
        hint = "profile YAML path (enter)" if profile else "firmware image .kfw path (enter)"

        def picked(answer: Picked | None) -> None:
            if answer is None:
                return
            path = Path(answer.path).expanduser()
            args = {"path": str(path), "activate": answer.activate} if profile else {"path": str(path)}
            question = (
                f"Upload profile {path.name} to box {serial}{' and make it active' if answer.activate else ''}?"
                if profile
                else f"Flash {path.name} on box {serial}? The box reboots into it."
            )
            action = Action(name, args)
            self.push_screen(ConfirmScreen(question), lambda yes: self._run(source, action, say) if yes else None)

        choices = candidates(Path.cwd(), suffixes)
        self.push_screen(FileScreen(title, hint, choices, activate=profile), picked)

    def _run(self, source: BoxSource, action: Action, say: Callable[[str], None]) -> None:
        say(f"{action.name}: sent…")
        self.running[source.serial] = action
        source.submit(action)
        limit = FLASH_TIMEOUT_S if action.name == "flash" else ACTION_TIMEOUT_S

        def wait() -> None:
            deadline = time.monotonic() + limit
            while not action.done.wait(0.2):
                if self.stopping.is_set():
                    return
                if time.monotonic() > deadline:
                    break
            text = action.result if action.done.is_set() else f"{action.name}: no answer within {limit:g} s"
            self.call_from_thread(self._report, action, text, say)

        self.run_worker(wait, thread=True, group="actions", exit_on_error=False)

    def _report(self, action: Action, text: str, say: Callable[[str], None]) -> None:
        """The result line on the box screen (if still open) and as a notification wherever the user is."""
        with contextlib.suppress(NoMatches):  # the box screen may have been closed meanwhile
            say(text)
        self.notify(text, severity="information" if action.ok else "error", timeout=8)
