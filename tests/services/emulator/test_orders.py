"""Issue 17's acceptance: online orders from the cloud print on the shop's printer, between the POS's jobs,
once each (across a reboot too), with what the kitchen and the customer need."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from kelaile_cli.services.cloud.online_orders import create_orders, list_orders, parse_items
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from tests.helpers import FakePrinter

STORE = "S-0042"
ORDER = {"store": STORE, "platform": "meituan", "items": parse_items("宫保鸡丁*1@38,米饭*2@3"), "note": "少辣"}
POS_JOB = b"\x1b@\x1c&" + "收银小票 桌号 8\n".encode("gb18030") + b"Total 88.00\n" * 40 + b"\x1dVA\x00"


def _orders(printer: FakePrinter) -> list[tuple[float, float, bytes]]:
    with printer.lock:
        return [s for s in printer.spans if b"meituan" in s[2]]


def _box(tmp_path: Path, cloud_url: str, printer: FakePrinter) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
    # as `klx box sim --cloud URL --store S-0042` does: the config drives the box's own cloud link
    box.state.update_config({"cloud_url": cloud_url, "store": STORE, "order_copies": "customer,kitchen"})
    box.start()
    return box


def _wait(check, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(check())


def test_an_order_prints_within_3_s_with_its_items_and_qr_and_is_printed_in_the_cloud(tmp_path):
    printer = FakePrinter()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer)
        try:
            assert _wait(lambda: box.orders.counts.received == 0 and box.orders.interval_s > 0)
            [made] = create_orders(cloud.url, ORDER)
            created = time.monotonic()
            assert _wait(lambda: _orders(printer), timeout=10)
            took = _orders(printer)[0][1] - created
            assert _wait(lambda: list_orders(cloud.url, STORE)["orders"][0]["status"] == "printed")
            state = box.device.status()
        finally:
            box.stop()
            printer.close()
    assert took < 3.0, f"order printed {took:.2f} s after it was created"
    paper = _orders(printer)[0][2]
    receipts = read_receipts(paper, DecodeOptions(encoding="gb18030"))
    text = "\n".join(render_text(r, markers=False) for r in receipts)
    assert made["number"] in text and "宫保鸡丁" in text and "米饭" in text and "少辣" in text
    assert [c.data for r in receipts for c in r.codes] == [f"{cloud.url}/o/{made['order_id']}"]  # customer copy
    assert "KITCHEN" in text and len(receipts) == 2  # and the kitchen's, without prices or QR
    assert state["orders"]["printed"] == 1 and state["orders"]["failed"] == 0
    assert (tmp_path / "box" / "cloud.json").stat().st_mode & 0o777 == 0o600  # the claimed identity: its secret


def test_an_order_created_during_a_pos_job_prints_after_it_and_both_stay_whole(tmp_path):
    printer = FakePrinter()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer)
        try:
            host, port = box.pos_address.removeprefix("listen://").rsplit(":", 1)
            with socket.create_connection((host, int(port))) as pos:
                pos.sendall(POS_JOB[:40])  # the POS is in the middle of a job …
                create_orders(cloud.url, ORDER)
                time.sleep(2.5)  # … long enough for several polls: the order must wait
                assert _orders(printer) == [] and box.orders.counts.waiting == 1
                pos.sendall(POS_JOB[40:])
                pos.shutdown(socket.SHUT_WR)
                pos.settimeout(2)
                while pos.recv(4096):
                    pass
            assert _wait(lambda: _orders(printer), timeout=10)
        finally:
            box.stop()
            printer.close()
    [pos_job] = [s for s in printer.spans if b"meituan" not in s[2]]
    [order_job] = _orders(printer)
    # byte-intact: every POS byte in order, the cloud's answer (if any) only just before the final cut
    assert pos_job[2].startswith(POS_JOB[:-4]) and pos_job[2].endswith(POS_JOB[-4:]) and b"meituan" not in pos_job[2]
    assert order_job[0] >= pos_job[1] - 0.05  # the order's connection began only after the POS job ended


def test_a_printed_order_is_not_printed_again_after_a_reboot(tmp_path):
    printer = FakePrinter()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer)
        try:
            create_orders(cloud.url, ORDER)
            assert _wait(lambda: box.orders.counts.printed == 1)
        finally:
            box.stop()
        again = _box(tmp_path, cloud.url, printer)
        try:
            time.sleep(2.5)
        finally:
            again.stop()
            printer.close()
    assert len(_orders(printer)) == 1


@pytest.mark.parametrize("copies", ["customer", "kitchen"])
def test_copies_follow_the_config(tmp_path, copies):
    printer = FakePrinter()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer)
        box.state.update_config({"order_copies": copies})
        try:
            create_orders(cloud.url, ORDER)
            assert _wait(lambda: _orders(printer))
        finally:
            box.stop()
            printer.close()
    receipts = read_receipts(_orders(printer)[0][2], DecodeOptions(encoding="gb18030"))
    assert len(receipts) == 1
    assert ("KITCHEN" in render_text(receipts[0], markers=False)) == (copies == "kitchen")


def test_a_pos_that_keeps_its_connection_open_gets_orders_between_its_receipts_on_that_connection(tmp_path):
    """Some POS programs open the printer's port once and keep it: the box must not wait for a close that never
    comes, nor print inside a receipt. Quiet after a cut, the job is over; the ticket goes down the POS's own
    printer connection (a network printer may serve one connection at a time)."""
    second = b"\x1b@\x1c&" + "收银小票 桌号 9\n".encode("gb18030") + b"Total 12.00\n" * 5 + b"\x1dVA\x00"
    printer = FakePrinter()
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = _box(tmp_path, cloud.url, printer)
        try:
            assert _wait(lambda: box.orders.interval_s > 0)
            host, port = box.pos_address.removeprefix("listen://").rsplit(":", 1)
            with socket.create_connection((host, int(port))) as pos:
                pos.sendall(POS_JOB[:40])  # quiet inside a receipt (no cut yet) for longer than a job gap …
                [made] = create_orders(cloud.url, ORDER)
                time.sleep(1.5)
                assert box.orders.counts.printed == 0  # … keeps the printer: nothing goes inside the receipt
                pos.sendall(POS_JOB[40:])  # the receipt ends with its cut; the POS stays connected
                assert _wait(lambda: list_orders(cloud.url, STORE)["orders"][0]["status"] == "printed")
                pos.sendall(second)  # the next receipt, on the same connection
                time.sleep(0.3)
                pos.shutdown(socket.SHUT_WR)
                pos.settimeout(5)
                while pos.recv(4096):
                    pass
            assert _wait(lambda: len(printer.spans) == 1)
        finally:
            box.stop()
            printer.close()
    assert len(printer.spans) == 1  # the order went down the POS's printer connection, not a second one
    paper = printer.spans[0][2]
    at = paper.index(b"meituan")
    first_cut = paper.index(POS_JOB[-4:])
    assert paper.startswith(POS_JOB[:-4]) and first_cut < at  # the first receipt whole before the ticket
    begins = paper.index(second[:-4])  # the second one whole after it (the cloud's coupon may precede its cut)
    assert begins > paper.rindex(b"meituan") and paper.endswith(second[-4:])
    assert paper.count(b"meituan") == 2  # the customer's and the kitchen's copy, once each
    ticket = paper[first_cut + 4 : begins]
    text = "\n".join(render_text(r, markers=False) for r in read_receipts(ticket, DecodeOptions(encoding="gb18030")))
    assert made["number"] in text and "宫保鸡丁" in text
