"""Monitor apps built from the committed recording (tests/tui/fleet.jsonl) with a fixed clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelaile_cli.services.monitor.events import read_events
from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.tui.app import MonitorApp

RECORDING = Path(__file__).with_name("fleet.jsonl")
EVENTS = read_events(RECORDING)
END = max(e.t for e in EVENTS)


def recorded_app(*, write: bool = False, now: float = END + 2) -> MonitorApp:
    """The app with the whole recording already fed, its clock ``now`` (2 s after the last event)."""
    feed = Feed(FleetModel())
    for ev in EVENTS:
        feed.emit(ev)
    clock = [now]
    app = MonitorApp(feed, write=write, clock=lambda: clock[0], refresh_s=0.05)
    app.test_clock = clock  # type: ignore[attr-defined]
    return app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
