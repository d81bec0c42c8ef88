"""Whole ``klx flash`` throughput as a share of the line rate, through the emulator's paced link.

    python bench/bench_flash.py [--size BYTES] [--bauds 115200,921600] [--json]

For each baud: a signed image of ``--size`` bytes (default 4 MiB) is flashed into a box emulator on
socket:// (``--baud`` of the emulator paces every byte at 10 bits) with the real crash-safe slot store
(fsyncs included). Two payloads: random bytes sent uncompressed (``--no-compress``), and a typical
compressible image — real machine code, the first bytes of this machine's shared libraries — sent
with per-chunk zlib. Share = image bytes installed per second of transfer / (baud / 10).
The runs of one payload go side by side (the link is paced time, not CPU).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# appended, not prepended: the installed (compiled) klx is measured when there is one (bench/build.py)
sys.path.append(str(ROOT))

from bench.build import describe as describe_build  # noqa: E402
from kelaile_cli.services.box import firmware_files as files  # noqa: E402
from kelaile_cli.services.box.flash import FlashOptions, flash  # noqa: E402
from kelaile_cli.services.emulator.box import BoxSim, SimOptions  # noqa: E402
from kelaile_cli.services.emulator.slot_store import SlotStore  # noqa: E402


def machine_code(size: int) -> bytes:
    """``size`` bytes of real ELF shared libraries (deterministic order)."""
    out = bytearray()
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"):
        for p in sorted(Path(d).glob("lib*.so*")) if Path(d).is_dir() else []:
            if p.is_file() and not p.is_symlink():
                out += p.read_bytes()[: 1 << 20]
            if len(out) >= size:
                return bytes(out[:size])
    if len(out) < size:
        raise SystemExit("not enough shared libraries on this machine for a compressible image")
    return bytes(out[:size])


def run(work: Path, keys: Path, payload: bytes, baud: int, compress: bool) -> dict:
    tag = f"{baud}-{'z' if compress else 'raw'}"
    (work / f"{tag}.bin").write_bytes(payload)
    image = work / f"{tag}.kfw"
    files.build_file(work / f"{tag}.bin", "2.0.0", keys, image, built=0)
    store = SlotStore(work / tag / "slots", files.load_trusted(keys))
    box = BoxSim(SimOptions(state=work / tag, listen="socket://127.0.0.1:0", baud=baud, slots=store))
    box.start()
    try:
        report = flash(image, box.port, FlashOptions(compress=compress))
    finally:
        box.stop()
    return {
        "baud": baud,
        "compressed": compress,
        "size": len(payload),
        "wire_payload_bytes": report.payload_sent,
        "transfer_s": round(report.transfer_s, 2),
        "elapsed_s": round(report.elapsed_s, 2),
        "throughput_Bps": round(report.throughput),
        "line_rate_share": round(report.line_share, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--bauds", default="115200,921600")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    bauds = [int(b) for b in args.bauds.split(",")]
    random_payload = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(args.size // 32 + 1))[: args.size]
    code = machine_code(args.size)
    ratio = len(zlib.compress(code, 6)) / len(code)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        keys = work / "keys"
        files.keygen(keys)
        for payload, compress in ((random_payload, False), (code, True)):
            with ThreadPoolExecutor(len(bauds)) as pool:
                results += list(pool.map(lambda b, p=payload, c=compress: run(work, keys, p, b, c), bauds))
    summary = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "build": describe_build(),
        "compressible_zlib_ratio": round(ratio, 3),
        "runs": results,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    print(f"{summary['machine']} · {summary['date']} · klx measured: {summary['build']}")
    print(f"compressible payload zlib ratio {ratio:.2f}")
    for r in results:
        kind = "compressible, zlib" if r["compressed"] else "random, uncompressed"
        print(
            f"{r['baud']:>7} baud  {kind:<22} {r['size'] / 1048576:.1f} MiB in {r['transfer_s']:>7.2f} s  "
            f"{r['throughput_Bps'] / 1024:>7.1f} KiB/s  {r['line_rate_share']:.1%} of line rate"
        )


if __name__ == "__main__":
    main()
