"""Delay the box adds per job on a serial printer, at 9,600-115,200 baud, with and without flow control.

    python bench/bench_serial_printer.py [--runs 3] [--bauds 9600,19200,38400,57600,115200] [--json]

The printer is ``SerialPrinter``: a pty whose other end takes bytes no faster than its baud (a paced
sink); with flow control it prints at half the line's speed from a 1 KiB input buffer and asserts busy
with XOFF at half full, XON at 1/8 (the line is stopped at least once per job). The
job is the bundled POS recording's print stream (two receipts, each ending in a cut; no cloud, so the cut
waits only for the box's own decode). Each run times one job from the POS's first write to the printer
holding the last byte:

* **direct** — the POS writes to the printer's port itself (what the job takes without a box);
* **box** — the POS writes to the emulator's POS pty; the box passes it through to the printer's port.

Each run starts once the printer has printed what it holds (else a run would inherit a full buffer from
the run before and take one buffer's printing time longer). The added delay is box - direct, per job.
Every run also checks the printer got the job byte for byte.
CPU seconds are this process's per job: the emulated POS and printer run in it too, so the box's own share is
the box run's CPU minus the direct run's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))

import serial  # noqa: E402

from bench.build import describe  # noqa: E402
from kelaile_cli.services import jobs  # noqa: E402
from kelaile_cli.services.emulator.box import BoxSim, SimOptions  # noqa: E402
from kelaile_cli.services.emulator.printer import SerialPrinter  # noqa: E402

BAUDS = (9600, 19200, 38400, 57600, 115200)
BUFFER = 1024  # the flow-controlled printer's input buffer, bytes


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _time_job(write_to: str, printer: SerialPrinter, job: bytes, xonxoff: bool) -> float:
    """Seconds from the first byte written to ``write_to`` until the printer holds all of ``job``."""
    printer.wait_printed()  # each run starts on an empty printer buffer (runs are independent)
    base = len(printer.received)
    with serial.serial_for_url(write_to, baudrate=9600, xonxoff=xonxoff, timeout=1) as port:
        t0 = time.perf_counter()
        writer = threading.Thread(target=port.write, args=(job,), daemon=True)
        writer.start()
        deadline = time.monotonic() + 60 + len(job) * 20 / 9600
        while len(printer.received) - base < len(job) and time.monotonic() < deadline:
            time.sleep(0.0005)
        elapsed = time.perf_counter() - t0
        writer.join(5)
    got = bytes(printer.received[base:])
    if got != job:
        raise SystemExit(f"the printer got {len(got)} bytes, not the job's {len(job)} byte for byte")
    return elapsed


def run(baud: int, flow: str, runs: int, job: bytes, workdir: Path) -> dict[str, object]:
    xonxoff = flow == "xonxoff"
    with SerialPrinter(baud=baud, buffer=BUFFER if xonxoff else None) as printer:
        cpu0 = _cpu()
        direct = [_time_job(printer.url, printer, job, xonxoff) for _ in range(runs)]
        cpu_direct = (_cpu() - cpu0) / runs  # the emulated POS and printer alone
        box = BoxSim(SimOptions(state=workdir / f"box-{baud}-{flow}", listen="socket://127.0.0.1:0", pos="pty",
                                printer=printer.url, printer_baud=baud, printer_flow=flow))  # fmt: skip
        box.start()
        try:
            cpu0 = _cpu()
            through = [_time_job(box.pos_address, printer, job, False) for _ in range(runs)]
            cpu = (_cpu() - cpu0) / runs
        finally:
            box.stop()
        xoffs = printer.xoffs
    added = [b - d for b, d in zip(sorted(through), sorted(direct), strict=True)]
    return {
        "baud": baud, "flow": flow, "runs": runs, "bytes": len(job), "direct_s": round(statistics.median(direct), 3),
        "box_s": round(statistics.median(through), 3), "added_ms": round(statistics.median(added) * 1000, 1),
        "added_max_ms": round(max(added) * 1000, 1), "cpu_s_per_job": round(cpu, 3),
        "cpu_direct_s_per_job": round(cpu_direct, 3), "xoffs": xoffs,
        "direct_runs_s": [round(x, 3) for x in direct], "box_runs_s": [round(x, 3) for x in through],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bauds", default=",".join(map(str, BAUDS)))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    job = jobs.sample_source().data
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for baud in (int(b) for b in args.bauds.split(",")):
            for flow in ("none", "xonxoff"):
                rows.append(run(baud, flow, args.runs, job, Path(tmp)))
                if not args.json:
                    r = rows[-1]
                    print(f"{r['baud']:>6} {r['flow']:<8} direct {r['direct_s']:.3f} s  box {r['box_s']:.3f} s  "
                          f"added {r['added_ms']:+.1f} ms (max {r['added_max_ms']:+.1f})  "
                          f"cpu {r['cpu_s_per_job']:.3f} s/job (direct {r['cpu_direct_s_per_job']:.3f})  "
                          f"xoffs {r['xoffs']}", flush=True)  # fmt: skip
    meta = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_version()}",
        "build": describe(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
    else:
        print(json.dumps(meta))


if __name__ == "__main__":
    main()
