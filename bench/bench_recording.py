"""Recordings at scale: parsing many connections, reading a big file, and `klx record`'s exit.

    python bench/bench_recording.py [--connections 2201,20301,100000] [--big-mb 100] [--record-jobs 20000]
        [--cli 100000] [--cli-connections-huge 1000000] [--cli-mb-huge 512] [--klx-path DIR] [--json]

- ``parse``: a recording of N connections (each one small receipt: two chunks to the printer, a
  status byte back) is read (`read_recording`) and turned into receipts (`jobs.source_receipts`, what
  `klx parse` does); each size in its own process, wall time and peak RSS.
- ``big``: one connection of ``--big-mb`` MB in 64 KiB chunks read back (`read_recording`): wall time,
  peak RSS, and RSS as a multiple of the data.
- ``cli``: `klx parse FILE --json` run as a process, end to end (stdout to a file, or to /dev/null
  for the huge ones), on a recording of ``--cli`` connections, of ``--cli-connections-huge``
  connections, and of one connection of ``--cli-mb-huge`` MB in 64 KiB chunks (receipts of ~4 KB, each
  cut): wall time, CPU seconds (user + system, from ``wait4``) and peak RSS of that process.
  ``--klx-path DIR`` puts DIR first on the process's ``PYTHONPATH`` (e.g. a copy of the installed
  package with older pure-Python modules, for a before/after on the same compiled core).
- ``record``: a real `klx record listen://127.0.0.1:0 -o x.klr` process takes ``--record-jobs`` POS
  connections (sequential), then SIGINT: seconds from the signal to the process's exit (the summary
  printed), and the chunks in the file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# appended, not prepended: an installed (possibly compiled) klx is measured when there is one
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "bench"))

T0 = 1795609800.0
RECEIPT = "\x1b@Table {i}\nTea        2.00\nCake       3.50\nTOTAL      5.50\n"
CUT = "\x1dV\x00"


def build(path: Path, connections: int) -> None:
    """A recording written the way the recorder writes it (one JSON line per chunk, then a trailer)."""
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter

    with RecordingWriter(path, Header("listen://bench", T0, "bench"), sync_interval=3600) as w:
        for i in range(connections):
            t = T0 + i * 0.01
            w.write(Chunk(t, "out", i, RECEIPT.format(i=i).encode()))
            w.write(Chunk(t + 0.001, "out", i, CUT.encode() + b"\x10\x04\x01"))
            w.write(Chunk(t + 0.002, "in", i, b"\x16"))


CHILD_PARSE = """
import json, resource, sys, time
from kelaile_cli.services import jobs
from kelaile_cli.services.capture.recorder import read_recording
from kelaile_cli.core.stream.printstream import DecodeOptions
t0, c0 = time.perf_counter(), time.process_time()
rec = read_recording(sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
source = jobs.load_source(sys.argv[1])
receipts = jobs.source_receipts(source, DecodeOptions())
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"chunks": len(rec.chunks), "read_s": t1 - t0, "read_cpu_s": c1 - c0, "receipts": len(receipts),
                  "parse_s": t3 - t1, "parse_cpu_s": c3 - c1,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_BIG = """
import json, resource, sys, time
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from kelaile_cli.services.capture.recorder import read_recording
t0, c0 = time.perf_counter(), time.process_time()
rec = read_recording(sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
data = sum(len(c.data) for c in rec.chunks)
print(json.dumps({"data_mb": data / 1e6, "read_s": t1 - t0, "read_cpu_s": c1 - c0, "base_rss_mb": base,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str) -> dict:
    # run from "/" so the installed build is imported, not the repository's sources (see bench/build.py)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd="/")
    return json.loads(out.stdout)


def build_long(path: Path, mb: int) -> None:
    """One connection of ``mb`` MB sent in 64 KiB chunks: receipts of ~4 KB, each cut."""
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter

    receipt = ("\x1b@" + "".join(f"Item {k:<4}  Tea         2.00\n" for k in range(120)) + CUT).encode()
    piece = (receipt * (65536 // len(receipt) + 1))[:65536]
    with RecordingWriter(path, Header("listen://bench", T0, "bench"), sync_interval=3600) as w:
        for i in range(mb * 1_000_000 // len(piece)):
            w.write(Chunk(T0 + i * 0.001, "out", 0, piece))


def run_cli(path: Path, out: Path | None, klx_path: str | None) -> dict:
    """``klx parse PATH --json`` as its own process: wall, CPU (user + sys) and peak RSS from wait4."""
    env = dict(os.environ)
    if klx_path:
        env["PYTHONPATH"] = klx_path + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "kelaile_cli", "parse", str(path), "--json"]
    with open(out or os.devnull, "wb") as sink:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd="/", stdout=sink, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"klx parse failed ({proc.returncode}): {err.decode(errors='replace')[-400:]}")
    lines = sum(1 for _ in out.open("rb")) if out is not None else None
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "receipts": lines}  # fmt: skip


def bench_cli(connections: list[int], huge_mb: int, tmp: Path, klx_path: str | None) -> list[dict]:
    rows = []
    cases = [(f"{n} connections", n, None) for n in connections if n]
    cases += [(f"one connection of {huge_mb} MB", None, huge_mb)] if huge_mb else []
    for label, n, mb in cases:
        path = tmp / f"cli-{n or mb}.klr"
        if n is not None:
            build(path, n)
        else:
            build_long(path, mb or 0)
        small = path.stat().st_size < 200_000_000
        out = tmp / "cli-out.jsonl" if small else None
        row = {"case": label, "file_mb": round(path.stat().st_size / 1e6, 1), **run_cli(path, out, klx_path)}
        path.unlink()
        if out is not None:
            out.unlink()
        rows.append(row)
        print(f"cli    klx parse --json, {label} ({row['file_mb']} MB file): {row['wall_s']:.1f} s wall, "
              f"{row['cpu_s']:.1f} CPU-s, peak RSS {row['rss_mb']:.0f} MB"
              + (f", {row['receipts']} receipts" if row["receipts"] is not None else ""), flush=True)  # fmt: skip
    return rows


def bench_parse(sizes: list[int], tmp: Path) -> list[dict]:
    rows = []
    for n in sizes:
        path = tmp / f"conn-{n}.klr"
        build(path, n)
        row = {"connections": n, "file_mb": round(path.stat().st_size / 1e6, 1), **child(CHILD_PARSE, str(path))}
        rows.append(row)
        print(f"parse  {n:>7} connections  {row['file_mb']:>6} MB  read {row['read_s']:.2f} s "
              f"(cpu {row['read_cpu_s']:.2f})  read+receipts {row['parse_s']:.2f} s (cpu {row['parse_cpu_s']:.2f})  "
              f"{row['receipts']} receipts  peak {row['rss_mb']:.0f} MB", flush=True)  # fmt: skip
    return rows


def bench_big(mb: int, tmp: Path) -> dict:
    from kelaile_cli.core.formats.recording import Chunk, Header
    from kelaile_cli.services.capture.recorder import RecordingWriter

    path = tmp / "big.klr"
    piece = (RECEIPT.format(i=1) * 2000).encode()[:65536]
    with RecordingWriter(path, Header("listen://bench", T0, "bench"), sync_interval=3600) as w:
        for i in range(mb * 1_000_000 // len(piece)):
            w.write(Chunk(T0 + i * 0.001, "out", 0, piece))
    row = {"file_mb": round(path.stat().st_size / 1e6, 1), **child(CHILD_BIG, str(path))}
    row["rss_per_data"] = round((row["rss_mb"] - row["base_rss_mb"]) / row["data_mb"], 2)
    print(f"big    {row['data_mb']:.0f} MB of data ({row['file_mb']} MB file)  "
          f"read {row['read_s']:.2f} s (cpu {row['read_cpu_s']:.2f})  "
          f"peak {row['rss_mb']:.0f} MB (start {row['base_rss_mb']:.0f} MB): {row['rss_per_data']}× the data",
          flush=True)  # fmt: skip
    return row


def bench_record(jobs: int, tmp: Path) -> dict:
    path = tmp / "record.klr"
    cmd = [sys.executable, "-m", "kelaile_cli", "record", "listen://127.0.0.1:0", "-o", str(path), "--json"]
    proc = subprocess.Popen(cmd, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    port = int(re.search(r":(\d+)", line).group(1))  # type: ignore[union-attr]
    t0 = time.perf_counter()
    for i in range(jobs):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((RECEIPT.format(i=i) + CUT).encode())
    sent_s = time.perf_counter() - t0
    time.sleep(1.0)  # let the last jobs reach the file
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    exit_s = time.perf_counter() - t1
    summary = json.loads(out.strip().splitlines()[-1])
    row = {"jobs": jobs, "send_s": sent_s, "exit_s": exit_s, "connections": summary["connections"],
           "receipts": summary["receipts"], "chunks": summary["chunks"], "returncode": proc.returncode}  # fmt: skip
    print(f"record {jobs} connections sent in {sent_s:.1f} s; SIGINT → exit {exit_s:.2f} s "
          f"(rc {proc.returncode}, {summary['receipts']} receipts counted)", flush=True)  # fmt: skip
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", default="2201,20301,100000")
    ap.add_argument("--big-mb", type=int, default=100)
    ap.add_argument("--record-jobs", type=int, default=20000)
    ap.add_argument("--cli", default="100000", help="klx parse --json process on these many connections")
    ap.add_argument("--cli-connections-huge", type=int, default=0)
    ap.add_argument("--cli-mb-huge", type=int, default=0)
    ap.add_argument("--klx-path", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from build import describe

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}; "
          f"klx measured: {describe()}" + (f" (PYTHONPATH {a.klx_path} first for klx parse)" if a.klx_path else ""),
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = {
            "parse": bench_parse([int(n) for n in a.connections.split(",") if n], tmp),
            "big": bench_big(a.big_mb, tmp) if a.big_mb else None,
            "record": bench_record(a.record_jobs, tmp) if a.record_jobs else None,
            "cli": bench_cli(
                [int(n) for n in a.cli.split(",") if n] + [a.cli_connections_huge], a.cli_mb_huge, tmp, a.klx_path
            ),
        }
    if a.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
