"""Client CPU per upload for each cloud transport, against a local ``klx cloud serve``.

    python bench/bench_cloud_transport.py [--uploads 3000] [--concurrency 32] [--transports aiohttp httpx] [--json]

Starts the sandbox (its own process, fresh SQLite file, ephemeral port), claims one device, then for
each transport sends ``--uploads`` distinct signed uploads, ``--concurrency`` at a time, through the
same ``AsyncCloudClient`` — only the transport differs — after 200 warm-up uploads. Reports this
process's CPU time per upload (what ``klx replay`` pays per request; the server's CPU is its own),
the achieved rate, and the sandbox's CPU per upload from /proc. Uses the installed package.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kelaile_cli.core.cloud.protocol import idempotency_key
from kelaile_cli.services.cloud.client import AsyncCloudClient
from kelaile_cli.services.cloud.transport import AsyncHttpxTransport
from kelaile_cli.services.replay.http import AiohttpTransport

WARM_UP = 200


def _body(n: int, run: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{run}/{n}".encode()).hexdigest()
    return {"receipt_sha256": digest, "printed_at": None, "profile": "bench", "confidence": 0.9, "kind": "sale",
            "transaction": {"total": "1.00", "currency": "CNY"}, "checks": []}  # fmt: skip


def _server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(url: str, name: str, uploads: int, concurrency: int, server_pid: int) -> dict[str, Any]:
    transport = AiohttpTransport.open(concurrency) if name == "aiohttp" else AsyncHttpxTransport(
        max_connections=concurrency)  # fmt: skip
    async with AsyncCloudClient(url, transport=transport, owns_transport=True) as cloud:
        creds = await cloud.claim(f"SN-BENCH-{name}-{time.time_ns()}", "bench")
        device = cloud.for_device(creds)
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            body = _body(n, creds.device_id)
            async with gate:
                await device.upload(body, idempotency_key(creds.device_id, body["receipt_sha256"]))

        await asyncio.gather(*(one(n) for n in range(WARM_UP)))
        cpu0, wall0, srv0 = time.process_time(), time.perf_counter(), _server_cpu_s(server_pid)
        await asyncio.gather(*(one(n) for n in range(WARM_UP, WARM_UP + uploads)))
        cpu, wall, srv = time.process_time() - cpu0, time.perf_counter() - wall0, _server_cpu_s(server_pid) - srv0
    return {"transport": name, "uploads": uploads, "client_cpu_ms_per_upload": round(cpu / uploads * 1e3, 3),
            "server_cpu_ms_per_upload": round(srv / uploads * 1e3, 3), "rate": round(uploads / wall, 1)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uploads", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--transports", nargs="+", default=["aiohttp", "httpx"], choices=["aiohttp", "httpx"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        klx = shutil.which("klx", path=str(Path(sys.executable).parent)) or "klx"  # the installed command
        server = subprocess.Popen([klx, "cloud", "serve", "--db", f"{tmp}/bench.sqlite", "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            line = server.stdout.readline() if server.stdout else ""
            url = next(w for w in line.split() if w.startswith("http://"))
            results = [asyncio.run(_run(url, t, args.uploads, args.concurrency, server.pid)) for t in args.transports]
        finally:
            server.terminate()
            server.wait(10)
    report = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}",
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "concurrency": args.concurrency,
              "results": results}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['machine']}, {report['date']}, {args.concurrency} concurrent")
        for r in results:
            print(f"  {r['transport']:8} client {r['client_cpu_ms_per_upload']:.3f} ms CPU/upload, "
                  f"server {r['server_cpu_ms_per_upload']:.3f} ms, {r['rate']:.0f} uploads/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
