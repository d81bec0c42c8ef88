"""Sources against real parts: an emulated box that goes away and comes back; a cloud that is down."""

from __future__ import annotations

import asyncio
import threading
import time

from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.monitor.events import MonitorEvent
from kelaile_cli.services.monitor.sources import BoxSource, CloudSource


def _wait(events: list[MonitorEvent], test, timeout: float = 10.0) -> MonitorEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in list(events):
            if test(ev):
                return ev
        time.sleep(0.02)
    raise AssertionError(f"no such event within {timeout} s: {[(e.kind, e.data) for e in events][-5:]}")


def test_a_box_that_goes_away_is_reported_down_with_its_reason_then_up_again(tmp_path):
    listen = "socket://127.0.0.1:0"
    box = BoxSim(SimOptions(state=tmp_path / "box", listen=listen))
    box.start()
    port = box.port  # socket://127.0.0.1:N — reused by the second start
    events: list[MonitorEvent] = []
    stop = threading.Event()
    source = BoxSource(port)
    worker = threading.Thread(target=source.run, args=(events.append, stop))
    worker.start()
    try:
        _wait(events, lambda e: e.kind == "link" and e.data["up"])
        assert _wait(events, lambda e: e.kind == "state").serial == box.state.serial
        box.stop()
        down = _wait(events, lambda e: e.kind == "link" and not e.data["up"])
        assert down.serial == box.state.serial and down.data["reason"]
        events.clear()
        again = BoxSim(SimOptions(state=tmp_path / "box", listen=port))
        again.start()
        try:
            up = _wait(events, lambda e: e.kind == "link" and e.data["up"], timeout=15)
            assert up.serial == box.state.serial  # the same box, found again by the backoff loop
        finally:
            again.stop()
    finally:
        stop.set()
        worker.join(timeout=15)
        assert not worker.is_alive()


def test_a_cloud_that_is_down_is_a_cloud_event_not_an_exception():
    events: list[MonitorEvent] = []
    stop = threading.Event()
    source = CloudSource("http://127.0.0.1:1", every=0.1)  # nothing listens on port 1

    async def run() -> None:
        task = asyncio.ensure_future(source.run(events.append, stop))
        for _ in range(100):
            if events:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(run())
    assert events and events[0].kind == "cloud" and events[0].data["ok"] is False
    assert "unreachable" in events[0].data["reason"]
