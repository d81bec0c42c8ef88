"""klx replay end to end against the local sandbox: sustained rate, exactly-once under faults, ceiling, Locust.

    python bench/bench_replay.py [--rate 1000] [--seconds 60] [--workers 2] [--phases sustain,once,ceiling,locust]

Every phase starts a fresh ``klx cloud serve`` process (its own SQLite file, ephemeral port) and replays
``recordings/`` through the box pipeline (decode, detect, extract, sign, upload):

- ``sustain``: ``--rate`` uploads/s for ``--seconds`` (open model); passes when the achieved rate is within
  2% of the asked one and every upload succeeded; reports p50/p99/max from the intended send time.
- ``once``: 10% injected 503s and 10% dropped answers (committed, never sent); passes when the sandbox holds
  exactly one transaction per unique receipt and the report counts every retry.
- ``ceiling``: asks for far more than the machine can do; the achieved rate is the ceiling of sandbox +
  replay together on this machine.
- ``locust``: the same load (``--rate``/s, ``--seconds``) from Locust running ``services/replay/locust_user``
  (needs the ``load`` extra) against the same endpoint; reports klx's achieved-rate and p99 ratios to it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.services.cloud.sandbox.storage import read_stats  # noqa: E402
from kelaile_cli.services.replay import Plan, ReplayOptions, replay  # noqa: E402

RECORDINGS = [ROOT / "recordings"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def sandbox(db: Path, *flags: str) -> Iterator[str]:
    """``klx cloud serve`` in its own process until the block ends."""
    port = _free_port()
    cmd = [sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--db", str(db), "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/stats", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"sandbox did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run(url: str, rate: float, seconds: float, workers: int, stores: int = 1) -> dict[str, Any]:
    options = ReplayOptions(url, Plan(rate=rate, duration=seconds, stores=stores), workers=workers, concurrency=256)
    return replay(RECORDINGS, options)


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "requested_rate",
        "achieved_rate",
        "sent",
        "succeeded",
        "failed",
        "retries",
        "retry_reasons",
        "unique_transactions",
        "duplicates_answered",
        "latency_ms",
        "send_lag_ms",
        "errors",
        "elapsed_s",
    )
    return {k: report[k] for k in keys}


def sustain(tmp: Path, rate: float, seconds: float, workers: int) -> dict[str, Any]:
    with sandbox(tmp / "sustain.sqlite") as url:
        report = _run(url, rate, seconds, workers)
    stored = read_stats(tmp / "sustain.sqlite")["transactions"]
    within = abs(report["achieved_rate"] - rate) / rate <= 0.02
    return {**_brief(report), "stored": stored, "pass": within and report["failed"] == 0 and stored == report["sent"]}


def once(tmp: Path, rate: float, seconds: float, workers: int) -> dict[str, Any]:
    db = tmp / "once.sqlite"
    with sandbox(db, "--error-rate", "0.1", "--drop-rate", "0.1", "--seed", "7") as url:
        report = _run(url, rate, seconds, workers, stores=20)
    stored = read_stats(db)["transactions"]
    ok = stored == report["unique_transactions"] == report["succeeded"] == report["sent"] and report["retries"] > 0
    return {**_brief(report), "stored": stored, "pass": ok}


def ceiling(tmp: Path, seconds: float, workers: int) -> dict[str, Any]:
    with sandbox(tmp / "ceiling.sqlite") as url:
        report = _run(url, 5000, seconds, workers)
    return _brief(report)


def locust(tmp: Path, rate: float, seconds: float, processes: int) -> dict[str, Any]:
    users = 100
    env = {**os.environ, "KLX_REPLAY_RECORDINGS": str(ROOT / "recordings"), "KLX_REPLAY_USER_RATE": str(rate / users)}
    prefix = tmp / "locust"
    with sandbox(tmp / "locust.sqlite") as url:
        cmd = [
            "locust",
            "-f",
            str(ROOT / "kelaile_cli/services/replay/locust_user.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(seconds)}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--processes",
            str(processes),
            "--stop-timeout",
            "5",
        ]
        began = time.monotonic()
        subprocess.run(cmd, cwd=ROOT, env=env, check=False, capture_output=True, timeout=seconds + 120)
        elapsed = time.monotonic() - began
    stored = read_stats(tmp / "locust.sqlite")["transactions"]
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as fh:
        rows = {r["Name"]: r for r in csv.DictReader(fh)}
    row = rows.get("/v1/transactions", {})
    return {
        "users": users,
        "processes": processes,
        "requests": int(row.get("Request Count", 0)),
        "failures": int(row.get("Failure Count", 0)),
        "achieved_rate": float(row.get("Requests/s", 0.0)),
        "latency_ms": {
            "p50": float(row.get("50%", 0)),
            "p99": float(row.get("99%", 0)),
            "max": float(row.get("Max Response Time", 0)),
        },
        "stored": stored,
        "elapsed_s": round(elapsed, 1),
        "note": "Locust measures from when each request was sent (closed loop per user), not from when it was due",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="klx replay sending processes")
    parser.add_argument("--once-rate", type=float, default=300.0)
    parser.add_argument("--once-seconds", type=float, default=20.0)
    parser.add_argument("--ceiling-seconds", type=float, default=15.0)
    parser.add_argument("--phases", default="sustain,once,ceiling,locust")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    phases = args.phases.split(",")
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rate": args.rate,
        "seconds": args.seconds,
        "workers": args.workers,
    }
    with tempfile.TemporaryDirectory(prefix="klx-bench-replay-") as d:
        tmp = Path(d)
        if "sustain" in phases:
            results["sustain"] = sustain(tmp, args.rate, args.seconds, args.workers)
            print("sustain", json.dumps(results["sustain"]), file=sys.stderr, flush=True)
        if "once" in phases:
            results["once"] = once(tmp, args.once_rate, args.once_seconds, args.workers)
            print("once", json.dumps(results["once"]), file=sys.stderr, flush=True)
        if "ceiling" in phases:
            results["ceiling"] = ceiling(tmp, args.ceiling_seconds, args.workers)
            print("ceiling", json.dumps(results["ceiling"]), file=sys.stderr, flush=True)
        if "locust" in phases:
            results["locust"] = locust(tmp, args.rate, args.seconds, args.workers)
            print("locust", json.dumps(results["locust"]), file=sys.stderr, flush=True)
            if "sustain" in results and results["locust"]["achieved_rate"]:
                mine, theirs = results["sustain"], results["locust"]
                results["klx_vs_locust"] = {
                    "achieved_rate_ratio": round(mine["achieved_rate"] / theirs["achieved_rate"], 3),
                    "p99_ratio": round(mine["latency_ms"]["p99"] / theirs["latency_ms"]["p99"], 3)
                    if theirs["latency_ms"]["p99"]
                    else None,
                }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
