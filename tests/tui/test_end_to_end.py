"""End to end: an emulated box (in-process) with the sandbox cloud, a POS printing, the monitor watching."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static

from kelaile_cli.core.profiles.detect import Detector
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services import jobs
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.cloud.uploader import CloudUploader
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.services.monitor.sources import BoxSource, CloudSource
from kelaile_cli.services.profiles.library import load_profiles
from kelaile_cli.tui.app import MonitorApp
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.table import FleetTable
from tests.helpers import FakePrinter, pos_print

pytestmark = pytest.mark.anyio

SAMPLE = jobs.sample_source().data  # two receipts (pre-bill and final) of the bundled meiwei-pos profile


async def test_two_receipts_printed_show_up_with_serial_profile_count_and_text(tmp_path):
    printer = FakePrinter()
    with running_cloud(tmp_path / "cloud.sqlite") as cloud:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0",
                                printer=f"tcp://127.0.0.1:{printer.port}"))  # fmt: skip
        box.options.uploader = CloudUploader(cloud.url, tmp_path / "box", box.state.serial, store="S-0007")
        box.start()
        try:
            detector = Detector(load_profiles().profiles)
            sources = [BoxSource(box.port, detector=detector), CloudSource(cloud.url, every=0.5)]
            app = MonitorApp(Feed(FleetModel()), sources, refresh_s=0.1)
            serial = box.state.serial
            async with app.run_test(size=(120, 40)) as pilot:
                table = app.screen.query_one("#fleet", FleetTable)
                deadline = time.monotonic() + 10  # the monitor connects (HELLO, tap on)
                while serial not in app.model.boxes or app.model.boxes[serial].link_up is not True:
                    assert time.monotonic() < deadline, "the monitor never connected to the box"
                    await pilot.pause(0.05)
                pos_print(int(box.pos_address.rsplit(":", 1)[1]), SAMPLE)
                printed = time.monotonic()
                while True:
                    await pilot.pause(0.05)
                    if serial in set(table.row_keys):
                        cells = {c: str(table.cell(serial, c)) for c in ("POS", "rcpts")}
                        if cells == {"POS": "meiwei-pos", "rcpts": "2"}:
                            break
                    assert time.monotonic() - printed < 3.0, f"not shown within 3 s: {app.model.boxes.get(serial)}"
                table.move_cursor_to(serial)
                table.focus()
                await pilot.press("enter")
                await pilot.pause(0.2)
                assert isinstance(app.screen, BoxScreen)
                last = render_text(read_receipts(SAMPLE)[-1], markers=False).rstrip().splitlines()[-1].strip()
                # the row's count may come from the box's STATE counters before the tapped bytes are decoded
                deadline = time.monotonic() + 10
                while True:
                    paper = str(app.screen.query_one("#paper", Static).render())
                    if last in paper and "recognised: meiwei-pos" in paper:
                        break
                    assert time.monotonic() < deadline, f"the tapped receipt never reached the paper: {paper!r}"
                    await pilot.pause(0.1)
                deadline = time.monotonic() + 10  # the cloud stored both: each receipt is marked uploaded
                while not all(r.get("uploaded") for r in app.model.boxes[serial].receipts):
                    assert time.monotonic() < deadline, "the cloud's transactions never reached the monitor"
                    await pilot.pause(0.1)
                assert len(app.model.boxes[serial].transactions) == 2
                await pilot.pause(0.3)
                assert "uploaded yes" in str(app.screen.query_one("#paper", Static).render())
                assert app.model.boxes[serial].store == "S-0007"
        finally:
            box.stop()
            printer.close()


async def test_with_write_a_confirmed_test_print_reaches_the_printer(tmp_path):
    printer = FakePrinter()
    box = BoxSim(SimOptions(state=tmp_path / "box", printer=f"tcp://127.0.0.1:{printer.port}"))
    box.start()
    try:
        app = MonitorApp(Feed(FleetModel()), [BoxSource(box.port)], write=True, refresh_s=0.1)
        serial = box.state.serial
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 10
            while serial not in app.model.boxes or app.model.boxes[serial].link_up is not True:
                assert time.monotonic() < deadline, "the monitor never connected to the box"
                await pilot.pause(0.05)
            app.open_box(serial)
            await pilot.pause(0.2)
            await pilot.press("t")
            await pilot.pause(0.1)
            await pilot.press("n")  # declined: nothing is sent
            await pilot.pause(0.3)
            assert printer.jobs == []
            await pilot.press("t")
            await pilot.pause(0.1)
            await pilot.press("y")
            deadline = time.monotonic() + 10
            while not printer.jobs:
                assert time.monotonic() < deadline, "the test print never reached the printer"
                await pilot.pause(0.05)
            assert f"Kelaile box {serial} test print".encode() in printer.jobs[0]
            deadline = time.monotonic() + 5
            while "test print sent" not in str(app.screen.query_one("#status", Static).render()):
                assert time.monotonic() < deadline
                await pilot.pause(0.05)
    finally:
        box.stop()
        printer.close()
