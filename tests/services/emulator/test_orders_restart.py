"""Issue 17: no online order lost or printed twice when ``klx cloud serve`` is killed (-9) while orders flow and
started again on the same database and port, nor when the box reboots; while the cloud is away the box keeps
polling with a growing wait and its STATE says why."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from kelaile_cli.services.cloud.online_orders import list_orders, parse_items
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.orders import BACKOFF_S
from tests.helpers import ROOT, FakePrinter

STORE = "S-0042"
ORDER = {"store": STORE, "platform": "eleme", "items": parse_items("拉面*1@28+加蛋,可乐*2@5")}


def _serve(db: Path, port: int) -> tuple[subprocess.Popen, str]:
    """``klx cloud serve`` as a real process -> it and its URL (from its ready line)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--db", str(db), "--port",
                             str(port)], stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.stderr is not None
    said = ""
    for _ in range(5):
        line = proc.stderr.readline()
        if match := re.search(r"http://127\.0\.0\.1:\d+", line):
            return proc, match.group()
        said += line
    proc.kill()
    raise AssertionError(f"klx cloud serve did not start: {said!r}")


def _box(tmp_path: Path, cloud_url: str, printer: FakePrinter) -> BoxSim:
    box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
    box.state.update_config({"cloud_url": cloud_url, "store": STORE, "order_copies": "customer"})
    box.start()
    return box


def _create(url: str, n: int, gap_s: float = 0.02) -> list[str]:
    """``n`` orders as a platform sends them -> the ids the cloud accepted (201)."""
    made = []
    with httpx.Client(base_url=url, timeout=5) as http:
        for _ in range(n):
            answer = http.post("/v1/sandbox/orders", json=ORDER)
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["order_id"])
            time.sleep(gap_s)
    return made


def _wait(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(check())


def _tickets(printer: FakePrinter, order_id: str) -> int:
    with printer.lock:
        return sum(f"/o/{order_id}".encode() in data for _, _, data in printer.spans)


class StoppingPrinter(FakePrinter):
    """A network printer that calls ``on_ticket`` (once) as soon as an order ticket's bytes arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.on_ticket: Callable[[], None] | None = None

    def _serve(self, conn: socket.socket) -> None:
        began, got = time.monotonic(), b""
        conn.settimeout(10)
        while data := conn.recv(65536):
            got += data
            if b"/o/" in got and self.on_ticket is not None:
                self.on_ticket, hook = None, self.on_ticket
                hook()
        with self.lock:
            self.jobs.append(got)
            self.spans.append((began, time.monotonic(), got))
        conn.close()


def test_a_killed_and_restarted_cloud_and_a_rebooted_box_lose_no_order_and_print_none_twice(tmp_path):
    printer = StoppingPrinter()
    db = tmp_path / "cloud.sqlite"
    cloud, url = _serve(db, 0)
    port = int(url.rsplit(":", 1)[1])
    made = _create(url, 30, gap_s=0)
    stopped = threading.Event()

    def freeze_cloud() -> None:  # the box printed a ticket: the cloud stops before it hears of it
        os.kill(cloud.pid, signal.SIGSTOP)
        stopped.set()

    printer.on_ticket = freeze_cloud
    box = _box(tmp_path, url, printer)
    try:
        assert stopped.wait(15), "the box printed no order"
        time.sleep(0.5)  # the box prints the rest of its batch and tries to confirm: nobody answers
        cloud.kill()  # kill -9
        cloud.wait(10)
        assert _wait(lambda: box.orders.counts.cloud == "away", timeout=15)
        time.sleep(sum(BACKOFF_S[:2]) + 0.5)  # the box keeps polling, each time waiting longer
        away = box.device.status()["orders"]
        assert away["cloud"] == "away" and away["poll_failures"] >= 2, away
        assert away["last_error"] and str(port) in away["last_error"], away  # says which cloud does not answer
        unconfirmed = away["printed"]
        assert 0 < unconfirmed < len(made)  # printed, the cloud never told: the box must not print them again

        box.stop()  # a reboot while the cloud is away
        box = _box(tmp_path, url, printer)
        cloud, again = _serve(db, port)  # the same database and port
        assert again == url
        made += _create(url, 15)

        def all_printed() -> bool:
            listed = list_orders(url, STORE, limit=1000)["orders"]
            return {o["order_id"]: o["status"] for o in listed} == dict.fromkeys(made, "printed")

        assert _wait(all_printed, timeout=60), list_orders(url, STORE, limit=1000)["counts"]
        time.sleep(2.5)  # more polls: nothing comes again
        state = box.device.status()["orders"]
    finally:
        box.stop()
        with contextlib.suppress(ProcessLookupError):
            os.kill(cloud.pid, signal.SIGCONT)
        cloud.kill()
        cloud.wait(10)
        printer.close()
    assert {order_id: _tickets(printer, order_id) for order_id in made} == dict.fromkeys(made, 1)
    assert state["cloud"] == "ok" and state["poll_failures"] == 0 and state["last_error"] is None
