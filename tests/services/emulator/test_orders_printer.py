"""Issue 17: a printer that cannot print (paper out, cover open, offline, switched off) keeps online orders queued
in the cloud; the cloud is told the printer's status, the box's counters and STATE say it, and each order prints
exactly once when the printer is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kelaile_cli.services.cloud.online_orders import create_orders, list_orders, parse_items
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.printer import NetworkPrinter

STORE = "S-0042"
ORDER = {"store": STORE, "platform": "meituan", "items": parse_items("宫保鸡丁*1@38,米饭*2@3")}


def _box(tmp_path: Path, cloud_url: str, printer_url: str, **config: object) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer_url))
    box.state.update_config({"cloud_url": cloud_url, "store": STORE, "order_copies": "customer", **config})
    box.start()
    return box


def _wait(check, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(check())


def _in_cloud(url: str) -> dict:
    [order] = list_orders(url, STORE)["orders"]
    return order


@pytest.mark.parametrize(
    ("trouble", "code", "words"),
    [({"paper": "end"}, "PAPER_OUT", "out of paper"), ({"cover_open": True}, "COVER_OPEN", "cover open"),
     ({"offline": True}, "OFFLINE", "offline")],
)  # fmt: skip
def test_a_watched_printer_in_trouble_keeps_the_order_queued_and_the_cloud_told(tmp_path, trouble, code, words):
    with NetworkPrinter() as printer, running_cloud(tmp_path / "c.sqlite") as cloud:
        # the box watches its printer (as after klx provision), rarely: it saw it fine at boot
        box = _box(tmp_path, cloud.url, printer.url, printer_watch_s=60)
        try:
            assert _wait(lambda: box.provisioning.printer.health is not None)
            for name, value in trouble.items():
                setattr(printer, name, value)
            [made] = create_orders(cloud.url, ORDER)
            # offered on the stale "fine"; the box asks the printer before printing and tells the cloud why not
            assert _wait(lambda: _in_cloud(cloud.url)["last_error"] == code)
            time.sleep(2.5)  # more polls: the box now reports its printer's trouble, so nothing more is offered
            held = _in_cloud(cloud.url)
            state = box.device.status()
            assert b"/o/" not in printer.jobs()
            for name, value in {"paper": "ok", "cover_open": False, "offline": False}.items():
                setattr(printer, name, value)
            assert _wait(lambda: box.orders.counts.printed == 1)
            assert _wait(lambda: _in_cloud(cloud.url)["status"] == "printed")
            done = _in_cloud(cloud.url)
            after = box.device.status()["orders"]
        finally:
            box.stop()
        paper = printer.jobs()
    assert held["status"] == "failed" and held["attempts"] == 1 and held["printed_at"] is None
    orders = state["orders"]
    assert orders["waiting"] == 1 and orders["failed"] == 1 and orders["printed"] == 0, orders
    assert words in orders["last_error"] and "1 order(s) wait" in orders["last_error"]
    assert state["printer"]["online"] is ("offline" not in trouble)  # STATE's printer entry agrees
    assert done["attempts"] == 2 and done["last_error"] is None
    assert paper.count(f"/o/{made['order_id']}".encode()) == 1
    assert after["waiting"] == 0 and after["last_error"] is None


def test_a_printer_switched_off_fails_the_print_and_the_order_prints_once_when_it_is_back(tmp_path):
    gone = NetworkPrinter()
    port = gone.port
    gone.stop()  # nothing listens: the printer is switched off (and the box does not watch it)
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, f"tcp://127.0.0.1:{port}")
        try:
            [made] = create_orders(cloud.url, ORDER)
            assert _wait(lambda: box.orders.counts.failed >= 2)  # tried at each poll, the cloud told each time
            held = _in_cloud(cloud.url)
            state = box.device.status()["orders"]
            with NetworkPrinter(port=port) as printer:  # switched on again
                assert _wait(lambda: box.orders.counts.printed == 1)
                assert _wait(lambda: _in_cloud(cloud.url)["status"] == "printed")
                paper = printer.jobs()
            after = box.device.status()["orders"]
        finally:
            box.stop()
    assert held["status"] in ("failed", "printing") and held["attempts"] >= 2 and held["printed_at"] is None
    assert state["waiting"] == 1 and state["printed"] == 0 and "unreachable" in state["last_error"], state
    assert paper.count(f"/o/{made['order_id']}".encode()) == 1
    assert after["waiting"] == 0 and after["last_error"] is None


def test_a_watched_printer_out_of_paper_sends_cloud_orders_to_the_backup_printer(tmp_path):
    """With ``backup_printer`` set, a main printer in trouble holds nothing back: the order the cloud offers
    prints on the backup, the cloud hears OK, and the main printer gets nothing."""
    backup = tmp_path / "backup.bin"
    with NetworkPrinter() as printer, running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer.url, printer_watch_s=60, backup_printer=str(backup))
        try:
            assert _wait(lambda: box.provisioning.printer.health is not None)
            printer.paper = "end"
            [made] = create_orders(cloud.url, ORDER)
            assert _wait(lambda: _in_cloud(cloud.url)["status"] == "printed")
            counts = box.device.status()["orders"]
        finally:
            box.stop()
        on_main = printer.jobs()
    assert backup.read_bytes().count(f"/o/{made['order_id']}".encode()) == 1
    assert b"/o/" not in on_main
    assert counts["printed"] == 1 and counts["failed"] == 0 and box.order_printers.on_backup == 1
