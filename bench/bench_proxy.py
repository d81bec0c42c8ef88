"""Passthrough cost: the same print jobs sent directly to a printer, through `klx record --forward` and,
when socat is installed, through socat in the same run (the reference a proxy should not exceed).

    python bench/bench_proxy.py [--jobs 10000] [--json] [--no-socat] [--baseline OTHER/bin/python]

A fake network printer (a separate process) answers each job's closing DLE EOT 1 with a status
byte and keeps a SHA-256 of every job it received. The POS side (this process) sends each job on
its own connection and times it from connect to the status byte — the wait a real POS has. The
proxy is a real `klx record listen://… --forward tcp://…` process writing a recording; socat runs as
`TCP-LISTEN:…,fork,reuseaddr,backlog=512 TCP:…` (a real backlog, one forked relay per job, as a
socat passthrough in a shop would). All paths run at once and each job is sent through every path in
turn (a rotating order), so a busy moment of the machine weighs on all of them alike. Then every job's
digest is compared: bytes lost or reordered anywhere would show. Jobs are ``--gap`` apart (5 ms), so what a
path does once the POS has its reply (a tap decoding, a recording written) is not charged to the next path.
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


def start_klx(python: str, printer_port: int, recording: Path) -> tuple[subprocess.Popen, int]:
    """``klx record listen://… --forward tcp://…`` of the klx installed for ``python``, writing a recording."""
    klx = Path(python).parent / "klx"
    cmd = [str(klx)] if klx.exists() else [python, "-m", "kelaile_cli"]
    proxy = subprocess.Popen(
        [*cmd, "record", "listen://127.0.0.1:0", "--forward", f"tcp://127.0.0.1:{printer_port}", "-o", str(recording)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=recording.parent,  # not ROOT: installed klx
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert proxy.stderr is not None
    return proxy, int(re.search(r":(\d+)", proxy.stderr.readline()).group(1))  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-socat", action="store_true", help="skip the socat reference run")
    ap.add_argument("--baseline", help="Interpreter of another klx build, measured in the same rounds.")
    ap.add_argument("--gap", type=float, default=0.005, help="Seconds between jobs (a till prints, then pauses).")
    args = ap.parse_args()
    socat = None if args.no_socat else shutil.which("socat")
    work = jobs(args.jobs)
    tmp = Path(tempfile.mkdtemp(prefix="klx-bench-"))
    modes = (
        ["direct", "through klx"] + (["baseline klx"] if args.baseline else []) + (["through socat"] if socat else [])
    )
    printers: dict[str, subprocess.Popen] = {}
    proxies: dict[str, subprocess.Popen] = {}
    ports: dict[str, int] = {}
    try:
        for mode in modes:
            digests = tmp / f"{mode.replace(' ', '-')}.txt"
            printer = subprocess.Popen([sys.executable, "-c", PRINTER, str(digests)], stdout=subprocess.PIPE, text=True)
            printers[mode] = printer
            printer_port = int(printer.stdout.readline())  # type: ignore[union-attr]
            if mode == "direct":
                ports[mode] = printer_port
            elif mode == "through socat":
                assert socat is not None
                proxies[mode], ports[mode] = start_socat(socat, printer_port)
            else:
                python = args.baseline if mode == "baseline klx" else sys.executable
                proxies[mode], ports[mode] = start_klx(python, printer_port, tmp / f"{mode.replace(' ', '-')}.klr")
        # every path gets each job in turn, in a rotating order: the machine's moods hit all paths alike
        lat: dict[str, list[float]] = {mode: [] for mode in modes}
        for i, job in enumerate(work[:200] + work):
            for k in range(len(modes)):
                mode = modes[(i + k) % len(modes)]
                took = send(ports[mode], job)
                time.sleep(args.gap)  # what a path does after its reply (a recording written) is not the next's cost
                if i >= 200:  # the first 200 warm up
                    lat[mode].append(took)
        time.sleep(0.5)
    finally:
        for proc in [*proxies.values(), *printers.values()]:
            proc.terminate()
        for proc in [*proxies.values(), *printers.values()]:
            proc.wait(30)
    results = {}
    sent = Counter(hashlib.sha256(j).hexdigest() for j in work[:200] + work)
    for mode in modes:
        # every job sent (warm-up included) must be there as often as it was sent
        received = Counter((tmp / f"{mode.replace(' ', '-')}.txt").read_text().split())
        times = lat[mode]
        results[mode] = {
            "jobs": len(times),
            "p50_ms": round(pct(times, 50), 3),
            "p99_ms": round(pct(times, 99), 3),
            "max_ms": round(max(times) * 1000, 3),
            "mean_ms": round(statistics.fmean(times) * 1000, 3),
            "jobs_lost_or_changed": sum((sent - received).values()),
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
    if "baseline klx" in results:
        bl = results["baseline klx"]
        report["baseline_added_p50_ms"] = round(bl["p50_ms"] - d["p50_ms"], 3)
        report["baseline_added_p99_ms"] = round(bl["p99_ms"] - d["p99_ms"], 3)
    if "through socat" in results:
        so = results["through socat"]
        report["socat_added_p50_ms"] = round(so["p50_ms"] - d["p50_ms"], 3)
        report["socat_added_p99_ms"] = round(so["p99_ms"] - d["p99_ms"], 3)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"klx measured: {report['build']}")
    print(f"{'':<14} {'jobs':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} {'lost':>5}")
    for mode, r in results.items():
        print(f"{mode:<14} {r['jobs']:>6} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['mean_ms']:>8} "
              f"{r['jobs_lost_or_changed']:>5}")  # fmt: skip
    print(f"added by klx: p50 {report['added_p50_ms']} ms, p99 {report['added_p99_ms']} ms")
    if "baseline_added_p50_ms" in report:
        base50, base99 = report["baseline_added_p50_ms"], report["baseline_added_p99_ms"]
        print(f"added by the baseline klx: p50 {base50} ms, p99 {base99} ms")
    if "socat_added_p50_ms" in report:
        print(f"added by socat: p50 {report['socat_added_p50_ms']} ms, p99 {report['socat_added_p99_ms']} ms")
    else:
        print("socat: not installed (apt-get install socat) or --no-socat: no reference run")


if __name__ == "__main__":
    main()
