"""The box protocol's own costs: frame codec speed, windowed transfer efficiency and tap throughput.

    python bench/bench_box_link.py [--json]

* codec: FLASH_DATA messages of 4 KiB encoded (CBOR + CRC-32 + COBS) and decoded again, per second.
* link: a go-back-N windowed transfer (16 chunks of 4 KiB outstanding) through the emulator over a real
  pty at a simulated 115,200 and 921,600 baud, into an in-memory slot store — the protocol's share of
  the line rate, without the firmware store's fsyncs (``bench/bench_flash.py`` measures the whole flash).
* tap: a POS prints the bundled sample repeatedly; time until the host has every byte as EV_TAP events.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelaile_cli.core.box.framing import FrameDecoder, encode_frame  # noqa: E402
from kelaile_cli.core.box.messages import Message, MsgType, decode_message, encode_message  # noqa: E402
from kelaile_cli.services import jobs  # noqa: E402
from kelaile_cli.services.box.client import BoxClient  # noqa: E402
from kelaile_cli.services.emulator.box import BoxSim, SimOptions  # noqa: E402
from tests.services.capture.test_live import pos_print  # noqa: E402
from tests.services.emulator.test_flash_receiver import MemorySlots, begin_msg, windowed_send  # noqa: E402


def bench_codec(n: int = 3000) -> dict:
    chunk = os.urandom(4096)
    dec = FrameDecoder()
    t = time.perf_counter()
    for i in range(n):
        msg = Message(MsgType.FLASH_DATA, i + 1, {"offset": i * 4096, "data": chunk, "crc": zlib.crc32(chunk)})
        wire = encode_frame(encode_message(msg))
        (frame,) = dec.feed(wire)
        decode_message(frame.body)  # type: ignore[union-attr]
    dt = time.perf_counter() - t
    return {"frames_per_s": round(n / dt), "payload_mb_per_s": round(n * 4096 / dt / 1e6, 1), "wire_bytes": len(wire)}


def bench_link(baud: int, size: int) -> dict:
    image = os.urandom(size)
    with tempfile.TemporaryDirectory() as tmp:
        slots = MemorySlots()
        box = BoxSim(SimOptions(state=Path(tmp), baud=baud, slots=slots))
        box.start()
        try:
            with BoxClient.connect(box.port) as c:
                begin = c.request(MsgType.FLASH_BEGIN, begin_msg(image).body)
                t = time.perf_counter()
                windowed_send(c, image, begin["offset"], begin["window"])
                dt = time.perf_counter() - t
                assert bytes(slots.data) == image
        finally:
            box.stop()
    line = baud / 10
    return {"baud": baud, "bytes": size, "seconds": round(dt, 3), "share_of_line_rate": round(size / dt / line, 3)}


def bench_tap(baud: int, copies: int) -> dict:
    sample = jobs.sample_source().data
    with tempfile.TemporaryDirectory() as tmp:
        box = BoxSim(SimOptions(state=Path(tmp), baud=baud, pos="listen://127.0.0.1:0"))
        box.start()
        try:
            with BoxClient.connect(box.port) as c:
                c.tap(True)
                port = int(box.pos_address.rsplit(":", 1)[1])
                t = time.perf_counter()
                for _ in range(copies):
                    pos_print(port, sample)
                got = [0]
                for ev in c.events(timeout=120, stop=lambda: got[0] >= copies * len(sample)):
                    if ev.type is MsgType.EV_TAP:
                        got[0] += len(ev["data"])
                dt = time.perf_counter() - t
        finally:
            box.stop()
    total = copies * len(sample)
    return {
        "baud": baud,
        "bytes": total,
        "seconds": round(dt, 3),
        "share_of_line_rate": round(total / dt / (baud / 10), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "codec": bench_codec(),
        "link": [bench_link(115200, 128 * 1024), bench_link(921600, 1024 * 1024)],
        "tap": [bench_tap(921600, 40)],
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['machine']} · {report['date']}")
    c = report["codec"]
    mbs, wire = c["payload_mb_per_s"], c["wire_bytes"]
    print(f"codec: {c['frames_per_s']:,} FLASH_DATA frames/s ({mbs} MB/s of payload), {wire} wire bytes per 4096")
    for r in report["link"]:
        share = r["share_of_line_rate"]
        print(f"windowed transfer @ {r['baud']:>7,} baud: {r['bytes'] // 1024} KiB in {r['seconds']} s = {share:.1%}")
    for r in report["tap"]:
        share = r["share_of_line_rate"]
        print(f"tap @ {r['baud']:,} baud: {r['bytes']:,} bytes in {r['seconds']} s = {share:.1%} of the line rate")


if __name__ == "__main__":
    main()
