"""Passthrough cost: the same print jobs sent directly to a printer, through `klx record --forward` and,
when socat is installed, through socat in the same run (the reference a proxy should not exceed).

    python bench/bench_proxy.py [--jobs 10000] [--json] [--no-socat]

A fake network printer (a separate process) answers each job's closing DLE EOT 1 with a status
byte and keeps a SHA-256 of every job it received. The POS side (this process) sends each job on
its own connection and times it from connect to the status byte — the wait a real POS has. The
proxy is a real `klx record listen://… --forward tcp://…` process writing a recording; socat runs as
`TCP-LISTEN:…,fork,reuseaddr,backlog=512 TCP:…` (a real backlog, one forked relay per job, as a
socat passthrough in a shop would). Then every job's digest is compared: bytes lost or reordered
anywhere would show.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))

from bench.build import describe  # noqa: E402

PRINTER = r"""
import hashlib, socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(512)
print(srv.getsockname()[1], flush=True)
out = open(sys.argv[1], "w")
lock = threading.Lock()
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    h, got = hashlib.sha256(), b""
    while d := c.recv(65536):
        h.update(d); got = (got + d)[-3:]
        if got == b"\x10\x04\x01": c.sendall(b"\x16")
    c.close()
    with lock:
        out.write(h.hexdigest() + "\n"); out.flush()
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def jobs(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lines = b"".join(
            b"Item %03d  x%d  %6.2f\n" % (k, rng.randrange(1, 5), rng.random() * 100)
            for k in range(rng.randrange(5, 30))
        )
        out.append(b"\x1b@ORDER %06d\n" % i + lines + b"\x1dV\x00\x10\x04\x01")
    return out


def send(port: int, job: bytes) -> float:
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(job)
    if s.recv(1) != b"\x16":
        raise RuntimeError("no status reply")
    elapsed = time.perf_counter() - start
    s.close()
    return elapsed


def run(port: int, work: list[bytes]) -> tuple[list[float], float]:
    started = time.perf_counter()
    lat = [send(port, j) for j in work]
    return lat, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_socat(socat: str, printer_port: int) -> tuple[subprocess.Popen, int]:
    """socat listening on a free port with a real backlog, relaying each connection to the printer."""
    port = free_port()
    proc = subprocess.Popen(
        [socat, f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr,backlog=512,nodelay",
         f"TCP:127.0.0.1:{printer_port},nodelay"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"socat did not listen on 127.0.0.1:{port} within 10 s")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-socat", action="store_true", help="skip the socat reference run")
    args = ap.parse_args()
    socat = None if args.no_socat else shutil.which("socat")
    work = jobs(args.jobs)
    tmp = Path(tempfile.mkdtemp(prefix="klx-bench-"))
    results = {}
    modes = ["direct", "through klx"] + (["through socat"] if socat else [])
    for mode in modes:
        digests = tmp / f"{mode.replace(' ', '-')}.txt"
        printer = subprocess.Popen([sys.executable, "-c", PRINTER, str(digests)], stdout=subprocess.PIPE, text=True)
        printer_port = int(printer.stdout.readline())
        proxy = None
        port = printer_port
        if mode == "through socat":
            assert socat is not None
            proxy, port = start_socat(socat, printer_port)
        elif mode != "direct":
            proxy = subprocess.Popen(
                [sys.executable, "-m", "kelaile_cli", "record", "listen://127.0.0.1:0",
                 "--forward", f"tcp://127.0.0.1:{printer_port}", "-o", str(tmp / "bench.klr")],
                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp,  # not ROOT: the installed klx
                env={**os.environ, "NO_COLOR": "1"},
            )  # fmt: skip
            port = int(re.search(r":(\d+)", proxy.stderr.readline()).group(1))
        run(port, work[:200])  # warm up
        lat, secs = run(port, work)
        time.sleep(0.5)
        if proxy:
            proxy.terminate()
            proxy.wait(30)
        printer.terminate()
        # every job sent (warm-up included) must be there as often as it was sent; lines come in the order the
        # printer's threads finish, so the warm-up's last lines may follow the run's first ones
        received = Counter(digests.read_text().split())
        missing = Counter(hashlib.sha256(j).hexdigest() for j in work[:200] + work) - received
        results[mode] = {
            "jobs": len(work),
            "p50_ms": round(pct(lat, 50), 3),
            "p99_ms": round(pct(lat, 99), 3),
            "max_ms": round(max(lat) * 1000, 3),
            "mean_ms": round(statistics.fmean(lat) * 1000, 3),
            "jobs_per_s": round(len(work) / secs),
            "mb_per_s": round(sum(map(len, work)) / secs / 1e6, 2),
            "jobs_lost_or_changed": sum(missing.values()),
        }
    d, k = results["direct"], results["through klx"]
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "build": describe(sys.executable, str(tmp)),
        "results": results,
        "added_p50_ms": round(k["p50_ms"] - d["p50_ms"], 3),
        "added_p99_ms": round(k["p99_ms"] - d["p99_ms"], 3),
    }
    if "through socat" in results:
        so = results["through socat"]
        report["socat_added_p50_ms"] = round(so["p50_ms"] - d["p50_ms"], 3)
        report["socat_added_p99_ms"] = round(so["p99_ms"] - d["p99_ms"], 3)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"klx measured: {report['build']}")
    print(f"{'':<12} {'jobs':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'jobs/s':>7} {'MB/s':>6} {'lost':>5}")
    for mode, r in results.items():
        print(f"{mode:<12} {r['jobs']:>6} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['jobs_per_s']:>7} "
              f"{r['mb_per_s']:>6} {r['jobs_lost_or_changed']:>5}")  # fmt: skip
    print(f"added by klx: p50 {report['added_p50_ms']} ms, p99 {report['added_p99_ms']} ms")
    if "socat_added_p50_ms" in report:
        print(f"added by socat: p50 {report['socat_added_p50_ms']} ms, p99 {report['socat_added_p99_ms']} ms")
    else:
        print("socat: not installed (apt-get install socat) or --no-socat: no reference run")


if __name__ == "__main__":
    main()
