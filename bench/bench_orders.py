"""Online orders printed by the box (issue 17): how soon an order prints, and what it costs the POS.

    python bench/bench_orders.py [--orders 120] [--json]

* latency: the sandbox cloud (real HTTP on 127.0.0.1, poll interval 1 s) and a claimed emulated box with an
  idle network printer; orders arrive one by one at random moments (a Poisson stream, 3 a second), each
  from ``POST /v1/sandbox/orders`` until the printer has the whole ticket (its connection closed): p50, p95
  and max over every order. Target: p95 <= 2 s.
* POS delay: a POS prints the bundled sample receipt again and again (one connection each), first alone, then
  while orders arrive at 20 a second; the POS's wait is from its connect until the box opens the job's
  connection to the printer (the box holds a POS job back only while it sends a batch of order tickets).

Everything runs in this one process (cloud, box, printer, POS), so the figures include their contention for
the GIL on top of the machine's load; CPU seconds and the load average are printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.services import jobs  # noqa: E402
from kelaile_cli.services.cloud.online_orders import create_orders, list_orders, parse_items  # noqa: E402
from kelaile_cli.services.cloud.sandbox import running_cloud  # noqa: E402
from kelaile_cli.services.emulator.box import BoxSim, SimOptions  # noqa: E402
from tests.helpers import FakePrinter  # noqa: E402

STORE = "S-BENCH"
ORDER = {"store": STORE, "platform": "meituan", "items": parse_items("宫保鸡丁*1@38,米饭*2@3"), "note": "少辣"}


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {"n": len(ordered), "p50": round(pick(0.5), 3), "p95": round(pick(0.95), 3), "max": round(ordered[-1], 3)}


class Rig:
    """Cloud + claimed box + network printer, started together."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.printer = tmp, FakePrinter()

    def __enter__(self) -> Rig:
        self._cloud = running_cloud(self.tmp / "cloud.sqlite")
        self.cloud = self._cloud.__enter__()
        self.box = BoxSim(SimOptions(state=self.tmp / "box", pos="listen://127.0.0.1:0", printer=self.printer.url))
        self.box.state.update_config({"cloud_url": self.cloud.url, "store": STORE, "order_copies": "customer"})
        self.box.start()
        host, port = self.box.pos_address.removeprefix("listen://").rsplit(":", 1)
        self.pos = (host, int(port))
        deadline = time.monotonic() + 30  # claimed and polling: one order printed end to end
        create_orders(self.cloud.url, ORDER)
        while self.box.orders.counts.printed < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.stop()
        self._cloud.__exit__(None, None, None)
        self.printer.close()

    def printed_at(self, order_id: str) -> float | None:
        """When the printer had the whole ticket of ``order_id`` (its connection closed), or None."""
        mark = f"/o/{order_id}".encode()
        with self.printer.lock:
            return next((end for _, end, data in self.printer.spans if mark in data), None)


def bench_latency(n: int, rate: float = 3.0) -> dict:
    created: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, Rig(Path(tmp)) as rig:
        rng = random.Random(17)
        for _ in range(n):
            time.sleep(rng.expovariate(rate))
            t = time.monotonic()
            [order] = create_orders(rig.cloud.url, ORDER)
            created[order["order_id"]] = t
        deadline = time.monotonic() + 30
        while rig.box.orders.counts.printed < n + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        took = [at - t for oid, t in created.items() if (at := rig.printed_at(oid)) is not None]
        missing = [o for o in list_orders(rig.cloud.url, STORE, limit=1000)["orders"] if o["order_id"] in created
                   and rig.printed_at(o["order_id"]) is None]  # fmt: skip
        state = rig.box.orders.status()
    if len(took) < n:
        why = [(o["number"], o["status"], o["attempts"], o["last_error"]) for o in missing]
        raise SystemExit(f"only {len(took)} of {n} orders printed within 30 s: {why}; the box: {state}")
    return {"rate_per_s": rate, "poll_interval_s": 1.0, **_quantiles(took)}


def _pos_waits(rig: Rig, sample: bytes, jobs_n: int) -> list[float]:
    """Print ``sample`` ``jobs_n`` times -> each job's wait from its connect until its printer connection opens."""
    waits = []
    for _ in range(jobs_n):
        with rig.printer.lock:
            before = len(rig.printer.spans)
        t = time.monotonic()
        with socket.create_connection(rig.pos, timeout=10) as pos:
            pos.sendall(sample)
            pos.shutdown(socket.SHUT_WR)
            while pos.recv(4096):
                pass
        with rig.printer.lock:
            began = [b for b, _, data in rig.printer.spans[before:] if data.startswith(sample[:64])]
        if began:
            waits.append(began[0] - t)
        time.sleep(0.1)
    return waits


def bench_pos_delay(jobs_n: int = 40, rate: float = 20.0) -> dict:
    sample = jobs.sample_source().data
    with tempfile.TemporaryDirectory() as tmp, Rig(Path(tmp)) as rig:
        alone = _pos_waits(rig, sample, jobs_n)
        flowing = threading.Thread(target=create_orders, args=(rig.cloud.url, ORDER), daemon=True,
                                   kwargs={"count": int(rate * jobs_n * 0.2), "rate": rate})  # fmt: skip
        flowing.start()
        busy = _pos_waits(rig, sample, jobs_n)
        flowing.join(timeout=60)
        pos_waited = rig.box.pipeline.turns.pos_waits
    return {"alone": _quantiles(alone), "with_orders": _quantiles(busy), "orders_per_s": rate,
            "pos_jobs_that_waited": pos_waited}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=120)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cpu, wall = time.process_time(), time.monotonic()
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": os.getloadavg(),
        "latency": bench_latency(args.orders),
        "pos_delay": bench_pos_delay(),
    }
    report |= {"cpu_s": round(time.process_time() - cpu, 1), "wall_s": round(time.monotonic() - wall, 1),
               "load_after": os.getloadavg()}  # fmt: skip
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"{report['machine']} · {report['date']} · load {report['load_before'][0]:.2f} → {report['load_after'][0]:.2f}"
    )
    lat = report["latency"]
    print(f"order created → printed (idle printer, 1 s poll, {lat['rate_per_s']}/s at random): n={lat['n']} "
          f"p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s (target p95 <= 2 s)")  # fmt: skip
    pd = report["pos_delay"]
    for name in ("alone", "with_orders"):
        q = pd[name]
        print(f"POS job connect → its printer connection, {name}: n={q['n']} p50 {q['p50'] * 1000:.1f} ms, "
              f"p95 {q['p95'] * 1000:.1f} ms, max {q['max'] * 1000:.1f} ms")  # fmt: skip
    print(f"POS jobs that waited for an order batch: {pd['pos_jobs_that_waited']}")
    print(f"CPU {report['cpu_s']} s over {report['wall_s']} s wall")


if __name__ == "__main__":
    main()
