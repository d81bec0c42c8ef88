"""GS k barcodes (issue 14 defect 5): format A without its NUL, and the EAN/UPC check digit."""

from __future__ import annotations

import pytest

from kelaile_cli.core.escpos.events import Command, Unknown
from kelaile_cli.core.stream.printstream import decode_events, read_receipts
from kelaile_cli.services.jobs import Source, receipt_record

GS = b"\x1d"


def test_format_a_without_nul_ends_at_the_next_control_byte():
    data = b"\x1b@" + GS + b"k\x02" + b"490123456789" + b"\n\nAfter\n" + GS + b"V\x00"
    events, _ = decode_events(data)
    ops = [e.op for e in events if isinstance(e, Command)]
    assert ops == ["init", "barcode", "cut"]
    assert not [e for e in events if isinstance(e, Unknown)]
    [r] = read_receipts(data)
    assert r.cut == "full"
    assert [ln.text for ln in r.lines] == ["After"]


def test_format_a_with_nul_is_unchanged():
    events, _ = decode_events(GS + b"k\x04" + b"ABC-12\x00" + b"x")
    [code] = [e for e in events if isinstance(e, Command)]
    assert code.raw == GS + b"k\x04ABC-12\x00"
    assert code.params["data"] == b"ABC-12"


@pytest.mark.parametrize(
    ("m", "sent", "scanned", "how"),
    [
        (2, b"490123456789", "4901234567894", "computed"),
        (67, b"490123456789", "4901234567894", "computed"),
        (2, b"4901234567894", "4901234567894", "sent"),
        (0, b"03600029145", "036000291452", "computed"),
        (3, b"9638507", "96385074", "computed"),
        (68, b"96385074", "96385074", "sent"),
    ],
)
def test_ean_upc_report_the_scanned_value_with_its_check_digit(m, sent, scanned, how):
    body = sent + b"\x00" if m <= 6 else bytes([len(sent)]) + sent
    [r] = read_receipts(b"\x1b@" + GS + b"k" + bytes([m]) + body + GS + b"V\x00")
    [code] = r.codes
    assert (code.data, code.check_digit, code.raw) == (scanned, how, sent)
    record = receipt_record(Source("x.bin", b""), r)
    assert record["codes"][0]["data"] == scanned
    assert record["codes"][0]["check_digit"] == how


def test_a_wrong_check_digit_is_reported_not_corrected():
    [r] = read_receipts(b"\x1b@" + GS + b"k\x02" + b"4901234567890\x00" + GS + b"V\x00")
    assert (r.codes[0].data, r.codes[0].check_digit) == ("4901234567890", "wrong")
