"""Online orders in the monitor (issue 17): an emulated box printing the sandbox cloud's orders, watched
over its link and through the cloud; printed, queued and failed orders in the fleet row and the box screen."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from textual.widgets import Static

from kelaile_cli.services.cloud.online_orders import create_orders, parse_items
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.monitor.feed import Feed
from kelaile_cli.services.monitor.model import FleetModel
from kelaile_cli.services.monitor.sources import BoxSource, CloudSource
from kelaile_cli.tui.app import MonitorApp
from kelaile_cli.tui.detail import BoxScreen
from kelaile_cli.tui.table import FleetTable

pytestmark = pytest.mark.anyio

STORE = "S-0017"
ORDER = {"store": STORE, "platform": "meituan", "items": parse_items("Noodles*1@18"), "note": "no chili"}


async def _until(pilot, check, what: str, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.1)


class LatePrinter:
    """A network printer that is not there yet: its port is reserved; ``start`` makes it listen and take jobs."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.taken = bytearray()
        self.sock: socket.socket | None = None

    def start(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.sock is not None
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                self.taken += data

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


async def test_failing_then_printed_orders_show_in_the_row_and_the_box_screen(tmp_path):
    printer = LatePrinter()
    with running_cloud(tmp_path / "cloud.sqlite") as cloud:
        box = BoxSim(SimOptions(state=tmp_path / "box", printer=printer.url))
        box.state.update_config({"cloud_url": cloud.url, "store": STORE})
        box.start()
        try:
            sources = [BoxSource(box.port), CloudSource(cloud.url, every=0.3)]
            app = MonitorApp(Feed(FleetModel()), sources, refresh_s=0.1)
            serial = box.state.serial
            async with app.run_test(size=(120, 40)) as pilot:
                table = app.screen.query_one("#fleet", FleetTable)

                def cell(column: str) -> str:
                    return table.cell(serial, column) if serial in table.row_keys else ""

                await _until(pilot, lambda: app.model.boxes.get(serial) and app.model.boxes[serial].orders,
                             "the box's order counters never reached the monitor")  # fmt: skip
                assert cell("orders") == "0"
                create_orders(cloud.url, ORDER)  # the printer is not there: the order cannot print
                await _until(pilot, lambda: "!" in cell("orders"), f"the failed order not shown: {cell('orders')!r}")
                view = app.model.boxes[serial]
                await _until(pilot, lambda: view.orders_queued == 1, "the cloud's queue for the box not shown")
                await _until(pilot, lambda: cell("orders").startswith("0 +1 !"), f"orders: {cell('orders')!r}")
                # degraded; the reason shown is the first rule that applies (here the printer, which is away)
                assert cell("state").startswith("degraded"), cell("state")
                app.open_box(serial)
                await pilot.pause(0.3)
                assert isinstance(app.screen, BoxScreen)
                info = str(app.screen.query_one("#info", Static).render())
                assert "── online orders" in info and "printed 0 · received" in info, info
                assert "in the cloud: 1 not printed" in info and "order" in info and "not printed" in info
                printer.start()  # the printer is back: the cloud offers the order again and it prints
                await _until(pilot, lambda: view.orders.get("printed") == 1, "the order never printed", limit=20)
                await _until(pilot, lambda: view.orders_queued == 0, "the cloud's queue did not empty")
                info = str(app.screen.query_one("#info", Static).render())
                assert "printed 1 · received" in info and "in the cloud: 0 not printed" in info
                assert b"meituan" in bytes(printer.taken)
        finally:
            box.stop()
            printer.close()
