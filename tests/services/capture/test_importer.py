"""klx import on real capture files written with dpkt: pcap, pcapng, usbmon, bad input."""

from __future__ import annotations

import json
import random

import pytest
from escpos.printer import Dummy

from kelaile_cli.core.errors import InputError, JobError
from kelaile_cli.services.capture.importer import import_capture
from kelaile_cli.services.capture.recorder import read_recording
from tests.helpers import connection, frame, klx, usbmon, write_pcap, write_pcapng

POS2 = ("10.0.0.6", 52001)


def job(title: str) -> bytes:
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p.set(bold=True)
    p.text(f"{title}\n")
    p.set(bold=False)
    p.text("Tea   2.00\nCake  3.50\n")
    p.qr(f"https://kelaile.example/{title}", native=True)
    p.cut()
    return p.output + b"\x10\x04\x01"


def messy_capture() -> tuple[list[tuple[float, bytes]], bytes, bytes]:
    a, b = job("ORDER-A"), job("ORDER-B")
    one = connection(a, b"\x16", isn=(1 << 32) - 100, seg=40)  # sequence numbers wrap mid-job
    two = connection(b, b"\x12", pos=POS2, isn=77, seg=40)
    rng = random.Random(3)
    data_one = one[2:-3]
    rng.shuffle(data_one)  # segments captured out of order
    data_one += data_one[:3]  # and three of them twice (retransmissions)
    # capture order: both handshakes, the two jobs interleaved, then replies and FINs
    middle = [p for pair in zip(data_one, two[2:-3], strict=False) for p in pair]
    middle += data_one[len(two) - 5 :] + two[2 + len(data_one) : -3]
    order = one[:2] + two[:2] + middle + one[-3:] + two[-3:]
    t0 = 1795609800.0
    return [(t0 + i / 10000, pkt) for i, (_, pkt) in enumerate(order)], a, b


def test_pcap_with_reordering_retransmission_wraparound_and_two_connections(tmp_path):
    packets, a, b = messy_capture()
    cap = tmp_path / "shop.pcap"
    write_pcap(cap, packets)
    summary = import_capture(cap, tmp_path / "shop.klr")
    rec = read_recording(tmp_path / "shop.klr")
    streams = sorted(rec.stream("out", c) for c in rec.connections())
    assert streams == sorted([a, b])
    assert sorted(rec.stream("in", c) for c in rec.connections()) == [b"\x12", b"\x16"]
    assert summary.connections == 2 and summary.retransmitted >= 3 and summary.out_of_order >= 1
    assert not summary.gaps


def test_pcapng_and_parse_of_the_result(tmp_path):
    packets, _, _ = messy_capture()
    cap = tmp_path / "shop.pcapng"
    write_pcapng(cap, packets)
    r = klx("import", str(cap), "-o", str(tmp_path / "x.klr"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["connections"] == 2
    r = klx("parse", str(tmp_path / "x.klr"), "--json")
    texts = sorted(json.loads(x)["text"].splitlines()[0] for x in r.stdout.splitlines())
    assert texts == ["ORDER-A", "ORDER-B"]


def test_usbmon_bulk_out_and_in(tmp_path):
    data = job("USB")
    records = [(1.0 + i / 100, usbmon(b"S", 0x01, data[i : i + 64])) for i in range(0, len(data), 64)]
    records += [(2.0, usbmon(b"C", 0x01, b"")), (2.1, usbmon(b"C", 0x82, b"\x16")), (2.2, usbmon(b"S", 0x82, b""))]
    cap = tmp_path / "usb.pcap"
    write_pcap(cap, records, linktype=220)
    summary = import_capture(cap, tmp_path / "usb.klr")
    rec = read_recording(tmp_path / "usb.klr")
    assert summary.kind == "usb"
    assert rec.stream("out") == data and rec.stream("in") == b"\x16"


def test_gap_is_reported(tmp_path):
    _, a, _ = messy_capture()
    one = connection(a * 3, b"\x16")  # 366 bytes: segments at offsets 0, 100, 200, 300
    del one[3]  # the data segment at stream offset 100 was never captured
    write_pcap(tmp_path / "gap.pcap", one)
    summary = import_capture(tmp_path / "gap.pcap", tmp_path / "gap.klr")
    [gap] = summary.gaps
    assert gap["offset"] == 100 and gap["missing"] == 100


def test_bad_inputs(tmp_path):
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"\x1b@ not a capture")
    with pytest.raises(InputError, match="not a pcap"):
        import_capture(junk, tmp_path / "o.klr")
    other = tmp_path / "web.pcap"
    write_pcap(other, [(1.0, frame(("10.0.0.5", 40000), ("10.0.0.7", 443), 1, b"GET /"))])
    with pytest.raises(JobError, match="ports seen: 443"):
        import_capture(other, tmp_path / "o.klr")
    r = klx("import", str(other), "-o", str(tmp_path / "o.klr"))
    assert r.returncode == 1 and "443" in r.stderr and "Traceback" not in r.stderr


def test_truncated_capture_keeps_complete_packets(tmp_path):
    packets, _, _ = messy_capture()
    cap = tmp_path / "torn.pcap"
    write_pcap(cap, packets)
    cap.write_bytes(cap.read_bytes()[:-25])
    summary = import_capture(cap, tmp_path / "torn.klr")
    assert summary.warnings and "torn" in summary.warnings[0]
    assert summary.connections >= 1
