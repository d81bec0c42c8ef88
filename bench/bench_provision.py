"""Machine time of ``klx provision`` against the emulator and the sandbox, and each fault's time to its error.

    python bench/bench_provision.py [--runs 3] [--json]

Everything runs as a technician runs it, each in its own process: ``klx cloud serve`` (SQLite in a
temporary directory), ``klx box sim`` (a new pty, POS listening on TCP, a network printer on TCP that
answers status queries), and ``klx provision --port PTY --cloud URL --claim CODE --yes --json``; the POS
prints a recorded meiwei-pos receipt the moment provision says it waits for one (the POS "printing at
once"). Happy path: ``--runs`` fresh boxes, each with a fresh claim code; the figure is the wall time of
the provision process, start to exit. Faults: one fresh box per fault switch; the figure is the time
from start to the exit with the fault's error code. Targets (issue 11): happy path ≤ 30 s, every fault
≤ 15 s to its own code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.services import jobs  # noqa: E402
from kelaile_cli.services.emulator.printer import NetworkPrinter  # noqa: E402

SAMPLE = jobs.sample_source().data
FAULTS = {
    "printer-offline": "PRINTER_OFFLINE",
    "paper-out": "PRINTER_PAPER_END",
    "cover-open": "PRINTER_COVER_OPEN",
    "cloud-unreachable": "CLOUD_CONNECT",
    "dns": "CLOUD_DNS",
    "clock-skew:-3600": "BOX_CLOCK",
    "claim-refused": "CLAIM_REFUSED",
}
BOUND_S = 120


def klx(*args: str) -> list[str]:
    return [sys.executable, "-m", "kelaile_cli", *args]


def serve_cloud(db: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        klx("cloud", "serve", "--db", str(db), "--port", "0"), stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    assert proc.stderr is not None
    match = re.search(r"http://127\.0\.0\.1:\d+", proc.stderr.readline())
    if match is None:
        proc.kill()
        raise SystemExit("klx cloud serve did not start")
    return proc, match.group()


def claim_code(db: Path, env: dict[str, str]) -> str:
    out = subprocess.run(
        klx("cloud", "claim-code", "--db", str(db), "--store", "S-0042", "--json"),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return str(json.loads(out.stdout)["code"])


def start_sim(state: Path, printer: str, env: dict[str, str], fault: str | None) -> tuple[subprocess.Popen, dict]:
    extra = ["--fault", fault] if fault else []
    proc = subprocess.Popen(
        klx(
            "box", "sim", "--state", str(state), "--pos", "listen://127.0.0.1:0", "--printer", printer, "--json", *extra
        ),
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def provision(port: str, cloud: str, code: str, pos: str, env: dict[str, str]) -> tuple[float, dict, dict]:
    """One klx provision run: (wall seconds, the done event, seconds per step)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        klx("provision", "--port", port, "--cloud", cloud, "--claim", code, "--yes", "--json"),
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    steps: dict[str, float] = {}
    done: dict = {}
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("step") == "pos" and event.get("status") == "waiting":
            with socket.create_connection(("127.0.0.1", int(pos.rsplit(":", 1)[1])), timeout=5) as s:
                s.sendall(SAMPLE)
        if event.get("status") in ("ok", "partial", "failed", "reused"):
            steps[event["step"]] = event["elapsed_s"]
        if event.get("event") == "done":
            done = event
        if time.monotonic() - start > BOUND_S:
            proc.kill()
            break
    proc.wait(BOUND_S)
    return time.monotonic() - start, done, steps


def one(work: Path, cloud: str, db: Path, env: dict[str, str], fault: str | None) -> tuple[float, dict, dict]:
    with NetworkPrinter() as printer:
        sim, info = start_sim(work / f"box-{time.monotonic_ns()}", printer.url, env, fault)
        try:
            return provision(info["port"], cloud, claim_code(db, env), info["pos"], env)
        finally:
            sim.send_signal(signal.SIGINT)
            sim.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "KLX_RUNTIME_DIR": str(work / "run"), "KLX_STATE_DIR": str(work / "prov"), "NO_COLOR": "1"}
        server, cloud = serve_cloud(work / "c.sqlite", env)
        try:
            happy = [one(work, cloud, work / "c.sqlite", env, None) for _ in range(args.runs)]
            faults = {f: one(work, cloud, work / "c.sqlite", env, f) for f in FAULTS}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(15)
    walls = [h[0] for h in happy]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "happy_path_s": [round(w, 2) for w in walls],
        "happy_path_median_s": round(statistics.median(walls), 2),
        "happy_ok": all(h[1].get("ok") for h in happy),
        "steps_s_last_run": happy[-1][2],
        "faults": {
            f: {
                "s": round(r[0], 2),
                "code": (r[1].get("error") or {}).get("code"),
                "expected": FAULTS[f],
                "layer": (r[1].get("error") or {}).get("layer"),
            }
            for f, r in faults.items()
        },
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['machine']}, {result['date']}")
    print(
        f"happy path: {', '.join(f'{w:.2f} s' for w in walls)} (median {result['happy_path_median_s']} s, "
        f"all ok: {result['happy_ok']}; target ≤ 30 s)"
    )
    print("  steps (last run): " + ", ".join(f"{k} {v:.2f} s" for k, v in result["steps_s_last_run"].items()))
    for f, r in result["faults"].items():
        mark = "ok" if r["code"] == r["expected"] else f"WRONG (expected {r['expected']})"
        print(f"fault {f:<18} {r['s']:6.2f} s  {r['code']} [{r['layer']}] {mark}")


if __name__ == "__main__":
    main()
