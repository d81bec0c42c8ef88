"""Issue 17 under load: 20 online orders a second while several POS terminals print receipts of bundled
profiles through the same box. On the printer's bytes every POS job and every order ticket must be intact and
whole (its own connection, byte for byte, never overlapping a POS job), every order printed exactly once, and
the cloud must list each as printed."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from kelaile_cli.core.box.order_ticket import compose_order_ticket
from kelaile_cli.core.stream.printstream import DecodeOptions, read_receipts
from kelaile_cli.services.capture.recorder import read_recording
from kelaile_cli.services.cloud.sandbox import running_cloud
from kelaile_cli.services.emulator.box import BoxSim, SimOptions
from kelaile_cli.services.emulator.orders import _default_encoding
from tests.helpers import ROOT, FakePrinter, klx_process

STORE = "S-0042"
PLATFORM = "loadtest"  # a name no POS receipt contains: it marks an order ticket on the printer
RATE, DURATION = 20, 5  # 100 orders
TERMINALS = 2  # POS connections printing at the same time as the orders flow
PIECES, PIECE_GAP_S, JOB_GAP_S = 5, 0.05, 0.4  # a POS streams each receipt in pieces, then pauses
KEEP_UP_S = 5.0  # the box keeps up: at most this long after the last order to print the backlog
OVERLAP_TOLERANCE_S = 0.1  # thread scheduling on a loaded machine; a POS job lasts >= 0.2 s on the wire
SAMPLES = ("chenguang-cafe/chenguang-cafe-01", "chenguang-cafe/chenguang-cafe-02", "anxin-pharmacy/anxin-pharmacy-01")


def _receipt_jobs() -> list[bytes]:
    """What the POS sent to the printer in bundled recordings (one receipt each)."""
    jobs = []
    for name in SAMPLES:
        recording = read_recording(ROOT / "recordings" / f"{name}.klr")
        jobs.append(b"".join(c.data for c in recording.chunks if str(c.direction) == "out"))
    return jobs


def _terminal(address: tuple[str, int], jobs: list[bytes], sent: list[bytes], done: threading.Event) -> None:
    """One POS terminal: a receipt per connection, streamed in pieces, until the orders stop (at most 60 jobs)."""
    for n in range(60):
        job = jobs[n % len(jobs)]
        with socket.create_connection(address, timeout=10) as pos:
            step = -(-len(job) // PIECES)
            for i in range(0, len(job), step):
                pos.sendall(job[i : i + step])
                time.sleep(PIECE_GAP_S)
            pos.shutdown(socket.SHUT_WR)
            while pos.recv(4096):  # the box hangs up once the printer's replies are relayed
                pass
        sent.append(job)
        if done.is_set():
            return
        time.sleep(JOB_GAP_S)


def _common(a: bytes, b: bytes) -> int:
    """How many leading bytes ``a`` and ``b`` share."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _whole_pos_job(paper: bytes, jobs: list[bytes]) -> bytes | None:
    """The POS job ``paper`` carries, every byte in order — the cloud's answer may stand only inside it as one
    inserted block (before its cut) — or None."""
    for job in jobs:
        if len(paper) >= len(job) and _common(job, paper) + _common(job[::-1], paper[::-1]) >= len(job):
            return job
    return None


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def test_20_orders_a_second_with_pos_jobs_all_whole_and_each_printed_once(tmp_path: Path) -> None:
    printer = FakePrinter()
    jobs = _receipt_jobs()
    layouts = {(48, None)} | {(r.width, r.encoding) for job in jobs for r in read_receipts(job, DecodeOptions())}
    sent: list[bytes] = []
    with running_cloud(tmp_path / "c.sqlite") as cloud:
        box = BoxSim(SimOptions(state=tmp_path / "box", pos="listen://127.0.0.1:0", printer=printer.url))
        box.state.update_config({"cloud_url": cloud.url, "store": STORE, "order_copies": "customer"})
        box.start()
        try:
            host, port = box.pos_address.removeprefix("listen://").rsplit(":", 1)
            done = threading.Event()
            terminals = [
                threading.Thread(target=_terminal, args=((host, int(port)), jobs[i:] + jobs[:i], sent, done))
                for i in range(TERMINALS)
            ]
            for t in terminals:
                t.start()
            made = klx_process("cloud", "order", "--store", STORE, "--platform", PLATFORM, "--items",
                               "宫保鸡丁*1@38,米饭*2@3", "--rate", str(RATE), "--duration", str(DURATION),
                               "--cloud", cloud.url, "--json", timeout=120)  # fmt: skip
            done.set()
            for t in terminals:
                t.join(timeout=60)
            assert made.returncode == 0, made.stderr
            orders = json.loads(made.stdout)
            ended = time.monotonic()
            deadline = ended + 60
            while box.orders.counts.printed < len(orders) and time.monotonic() < deadline:
                time.sleep(0.05)
            behind = time.monotonic() - ended
            time.sleep(1.5)  # one more poll: nothing may print again
            listed = klx_process("cloud", "orders", "--store", STORE, "--limit", "1000", "--cloud", cloud.url, "--json")
            counts = box.orders.status()
        finally:
            box.stop()
            printer.close()
    assert len(orders) == RATE * DURATION and len(sent) >= 2 * TERMINALS
    assert behind <= KEEP_UP_S, f"the box printed the last order {behind:.1f} s after the stream ended: {counts}"
    with printer.lock:
        spans = list(printer.spans)
    tickets = [s for s in spans if PLATFORM.encode() in s[2]]
    pos_spans = [s for s in spans if PLATFORM.encode() not in s[2] and s[2]]

    # every POS job reached the printer whole, each in its own connection, none lost or added
    carried = [_whole_pos_job(s[2], jobs) for s in pos_spans]
    assert None not in carried, "a POS job reached the printer torn or mixed with other bytes"
    assert sorted(carried) == sorted(sent)

    # every order printed exactly once, as the ticket the box composes for it, whole in its own connection
    by_id = {o["order_id"]: o for o in orders}
    seen: dict[str, int] = {}
    for _, _, paper in tickets:
        [order_id] = [i for i in by_id if f"/o/{i}".encode() in paper]
        seen[order_id] = seen.get(order_id, 0) + 1
        doc = by_id[order_id]
        qr = f"{cloud.url}/o/{order_id}"
        expected = {
            compose_order_ticket(doc, width=w, encoding=e or _default_encoding(doc), copy="customer", qr_url=qr)
            for w, e in layouts
        }
        assert paper in expected, f"order {doc['number']}: the ticket on paper is not the one composed"
    assert seen == dict.fromkeys(by_id, 1)

    # no ticket while a POS job was on the wire (and so no POS job inside a ticket)
    worst = max(_overlap(t[:2], p[:2]) for t in tickets for p in pos_spans)
    assert worst <= OVERLAP_TOLERANCE_S, f"an order ticket overlapped a POS job by {worst:.3f} s"

    # the cloud saw each printed once, the box counted them
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert {o["order_id"]: o["status"] for o in doc["orders"]} == dict.fromkeys(by_id, "printed")
    assert doc["counts"]["printed"] == len(orders)
    assert counts["printed"] == len(orders) and counts["failed"] == 0
