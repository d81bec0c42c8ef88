"""Third-party conformance: real jobs from escpos-php's integration tests (MIT, see tests/fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelaile_cli.core.escpos.events import Truncated, Unknown
from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import decode_events, read_receipts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "escpos-php"
JOBS = sorted(FIXTURES.glob("*.bin"))


@pytest.mark.parametrize("path", JOBS, ids=[p.stem for p in JOBS])
def test_every_command_is_known_and_every_byte_kept(path):
    data = path.read_bytes()
    events, dialect = decode_events(data)
    assert dialect == "escpos"
    assert b"".join(e.raw for e in events) == data
    assert not [e for e in events if isinstance(e, Unknown | Truncated)]


def codes(name: str) -> list[tuple[str, str]]:
    return [(c.symbology, c.data) for r in read_receipts((FIXTURES / name).read_bytes()) for c in r.codes]


def test_qr_contents():
    found = codes("qr-code.bin")
    assert ("QR", "Testing 123") in found
    assert any(data.startswith("0123456789") for sym, data in found if sym == "QR")


def test_pdf417_and_barcode_contents():
    assert ("PDF417", "Testing 123") in codes("pdf417-code.bin")
    assert ("CODE39", "ABC") in codes("barcode.bin")


def test_demo_text_and_images():
    receipts = read_receipts((FIXTURES / "demo.bin").read_bytes())
    text = "\n".join(render_text(r) for r in receipts)
    assert "Hello world" in text
    assert sum(len(r.images) for r in receipts) >= 2
    *printed, tail = receipts
    assert all(r.cut for r in printed)
    # the demo ends with a cash-drawer pulse after the last cut: a job of its own, with no paper
    assert tail.cut is None and tail.drawer_kicks and not tail.lines
