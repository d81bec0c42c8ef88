"""The sandbox cloud's own ceiling for signed transaction ingest (transactions/s), measured with wrk.

    python bench/bench_cloud.py [--workers 1 2] [--seconds 15] [--connections 64] [--json]

For each worker count: start ``klx cloud serve`` on an ephemeral port with a fresh SQLite file,
claim 16 devices, then pre-sign enough *distinct* uploads (real upload bodies from the labelled
recordings, one idempotency key and nonce each, so none is a retry or a replay) and let wrk — a
C load generator, light on the shared CPU — send them as fast as the server answers. Reports
requests/s, wrk's latency percentiles, non-2xx answers, and checks the database holds exactly one
row per 2xx answer. A second pass re-sends a slice of the same keys (retries, fresh signatures) to
measure the duplicate path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.core.cloud import protocol as cp  # noqa: E402
from kelaile_cli.core.formats.recording import parse_recording  # noqa: E402
from kelaile_cli.core.profiles.analysis import analyse, upload_body  # noqa: E402
from kelaile_cli.core.profiles.detect import Detector  # noqa: E402
from kelaile_cli.core.stream.printstream import read_receipts  # noqa: E402
from kelaile_cli.services.cloud.client import CloudClient, Credentials  # noqa: E402
from kelaile_cli.services.profiles.library import load_profiles  # noqa: E402

DEVICES = 16
WRK_THREADS = 2

LUA = r"""
local reqs, n, i = {}, 0, 0
function init(args)
  local f = assert(io.open(args[1] .. "." .. wrk.thread:get("id"), "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    n = n + 1
    reqs[n] = data:sub(nl + 1, nl + len)
    pos = nl + 1 + len
  end
end
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
"""


def bodies() -> list[tuple[str, bytes]]:
    """(receipt digest, upload body bytes) for every receipt of the labelled recordings."""
    detector = Detector(load_profiles().profiles)
    out = []
    for path in sorted((ROOT / "recordings").glob("*/*.klr")):
        data = parse_recording(path.read_bytes(), str(path)).stream()
        for receipt in read_receipts(data):
            digest = cp.receipt_digest(data[receipt.start : receipt.end])
            doc = upload_body(analyse(receipt, detector), digest, None)
            out.append((digest, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()))
    return out


def raw_request(host: str, creds: Credentials, body: bytes, key: str) -> bytes:
    path = "/v1/transactions"
    headers = cp.signed_headers(creds.device_id, creds.secret, "POST", path, int(time.time()), body, key,
                                secrets.token_hex(8))  # fmt: skip
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


def write_requests(prefix: Path, host: str, devices: list[Credentials], docs: list[tuple[str, bytes]],
                   count: int, first_occurrence: int) -> None:  # fmt: skip
    per_thread = count // WRK_THREADS
    for t in range(WRK_THREADS):
        with open(f"{prefix}.{t}", "wb") as fh:
            for j in range(per_thread):
                i = t * per_thread + j
                creds = devices[i % len(devices)]
                digest, body = docs[i % len(docs)]
                key = cp.idempotency_key(creds.device_id, digest, first_occurrence + i)
                req = raw_request(host, creds, body, key)
                fh.write(f"{len(req)}\n".encode() + req)


def write_retries(prefix: Path, host: str, devices: dict[str, Credentials], db: Path, limit: int) -> None:
    """Re-send stored uploads (same device, key and body; fresh signature): the retry/duplicate path."""
    rows = (
        sqlite3.connect(db)
        .execute("SELECT device_id, idempotency_key, body FROM transactions ORDER BY seq LIMIT ?", (limit,))
        .fetchall()
    )
    per_thread = len(rows) // WRK_THREADS
    for t in range(WRK_THREADS):
        with open(f"{prefix}.{t}", "wb") as fh:
            for _copy in range(3):  # each retry signed afresh; enough that wrk never wraps into a replay
                for device_id, key, body in rows[t * per_thread : (t + 1) * per_thread]:
                    req = raw_request(host, devices[device_id], body.encode(), key)
                    fh.write(f"{len(req)}\n".encode() + req)


async def _open_loop(host: str, port: int, reqs: list[bytes], rate: float, connections: int) -> dict:
    """Send ``reqs`` on a fixed schedule (request i at t0 + i/rate) over keep-alive connections and time
    each answer from its *scheduled* send time, so a server that falls behind cannot hide it."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    nxt = 0
    t0 = loop.time() + 0.2

    async def conn() -> None:
        nonlocal nxt
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while nxt < len(reqs):
                i, nxt = nxt, nxt + 1
                due = t0 + i / rate
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                writer.write(reqs[i])
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                latencies.append((loop.time() - due) * 1000)
                status = int(head[9:12])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(conn() for _ in range(connections)))
    elapsed = loop.time() - t0
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return {"requested_rate": rate, "sent": len(reqs), "achieved_rate": round(len(reqs) / elapsed, 1),
            "statuses": statuses, "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99),
            "max_ms": round(latencies[-1], 2)}  # fmt: skip


def fixed_rate(url: str, devices: list[Credentials], docs: list[tuple[str, bytes]], rate: float, seconds: float,
               first_occurrence: int) -> dict:  # fmt: skip
    host, port = url.removeprefix("http://").split(":")
    reqs = []
    for i in range(int(rate * seconds)):
        creds = devices[i % len(devices)]
        digest, body = docs[i % len(docs)]
        reqs.append(raw_request(f"{host}:{port}", creds, body, cp.idempotency_key(creds.device_id, digest,
                                                                                   first_occurrence + i)))  # fmt: skip
    result = asyncio.run(_open_loop(host, int(port), reqs, rate, 64))
    result["load_average"] = os.getloadavg()[0]
    return result


def cpu_seconds(root: int) -> float:
    """user+system CPU of a process and its children (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def parse_wrk(text: str) -> dict:
    def ms(value: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s)", value)
        assert m, value
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    out: dict = {"requests": int(re.search(r"(\d+) requests in", text).group(1))}  # type: ignore[union-attr]
    out["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = errors.group(1).strip() if errors else ""
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", text, re.M)
        out[f"p{p}_ms"] = round(ms(m.group(1)), 2) if m else None
    return out


def run(workers: int, seconds: float, connections: int, tmp: Path, rates: list[float], rate_seconds: float) -> dict:
    db = tmp / f"bench-{workers}.sqlite"
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "kelaile_cli", "cloud", "serve", "--db", str(db), "--port", "0",
           "--workers", str(workers)]  # fmt: skip
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert server.stderr is not None
        url = re.search(r"http://[\d.]+:\d+", server.stderr.readline()).group()  # type: ignore[union-attr]
        host = url.removeprefix("http://")
        client = CloudClient(url)
        deadline = time.time() + 20
        while True:  # workers take a moment to come up
            try:
                devices = [client.for_device(client.claim(f"BENCH-{i}", "bench")).credentials for i in range(DEVICES)]
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        docs = bodies()
        # enough distinct requests for 6,000/s, then a retry pass over the first 20,000 keys
        count = int(6000 * seconds)
        prefix = tmp / f"reqs-{workers}"
        write_requests(prefix, host, [d for d in devices if d], docs, count, 0)
        script = tmp / "replay.lua"
        script.write_text(LUA)
        wrk = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url]
        cpu0 = cpu_seconds(server.pid)
        first = parse_wrk(subprocess.run([*wrk, "--", str(prefix)], capture_output=True, text=True, check=True).stdout)
        first["server_cpu_ms_per_tx"] = round((cpu_seconds(server.pid) - cpu0) * 1000 / max(1, first["requests"]), 3)
        first["load_average"] = os.getloadavg()[0]
        time.sleep(1.0)  # let requests still in flight when wrk stopped finish
        stored = sqlite3.connect(db).execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
        write_retries(prefix, host, {d.device_id: d for d in devices}, db, 20000)
        retry_wrk = [*wrk[:3], "-d5s", *wrk[4:]]
        again = parse_wrk(subprocess.run([*retry_wrk, "--", str(prefix)], capture_output=True, text=True,
                                         check=True).stdout)  # fmt: skip
        time.sleep(1.0)
        after = sqlite3.connect(db).execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
        held = [fixed_rate(url, devices, docs, r, rate_seconds, 10_000_000 * (k + 1)) for k, r in enumerate(rates)]
        client.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    return {
        "workers": workers,
        "connections": connections,
        "seconds": seconds,
        "ingest": first,
        "stored_rows": stored,
        # wrk stops counting with requests still in flight; the server completes them
        "rows_match_2xx": 0 <= stored - (first["requests"] - first["non_2xx"]) <= connections,
        "retry_pass": again,
        "rows_after_retries": after,
        "retries_stored_nothing": after == stored,
        "fixed_rate": held,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rates", type=float, nargs="*", default=[1000, 1500], help="open-loop rates to hold")
    ap.add_argument("--rate-seconds", type=float, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_cloud: needs wrk (apt-get install wrk)")
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            results.append(run(workers, args.seconds, args.connections, Path(tmp), args.rates, args.rate_seconds))
            if not args.json:
                r = results[-1]
                i, a = r["ingest"], r["retry_pass"]
                print(f"workers={workers}: {i['rps']:,.0f} new tx/s (p50 {i['p50_ms']} ms, p90 {i['p90_ms']} ms, "
                      f"p99 {i['p99_ms']} ms, non-2xx {i['non_2xx']}, rows {r['stored_rows']} ok="
                      f"{r['rows_match_2xx']}); retries {a['rps']:,.0f}/s (p99 {a['p99_ms']} ms, non-2xx "
                      f"{a['non_2xx']}, nothing stored={r['retries_stored_nothing']})")  # fmt: skip
                for h in r["fixed_rate"]:
                    print(
                        f"  open loop {h['requested_rate']:,.0f}/s → {h['achieved_rate']:,.1f}/s, p50 {h['p50_ms']} "
                        f"ms, p90 {h['p90_ms']} ms, p99 {h['p99_ms']} ms, max {h['max_ms']} ms, {h['statuses']}"
                    )
    if args.json:
        print(json.dumps({"machine": machine, "date": time.strftime("%Y-%m-%d"), "results": results}, indent=2))
    else:
        print(machine)


if __name__ == "__main__":
    main()
