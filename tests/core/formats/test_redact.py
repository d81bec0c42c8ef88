"""Redaction: personal data masked, the stream still valid ESC/POS, every other byte untouched."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.escpos.dialect import StreamDecoder
from kelaile_cli.core.escpos.events import Text
from kelaile_cli.core.formats.redact import StreamingRedactor, redact_stream
from kelaile_cli.core.stream.printstream import read_receipts
from tests.helpers import PII
from tests.helpers import pii_job as job


def events(data: bytes):
    d = StreamDecoder()
    return d.feed(data) + d.close()


def test_masks_text_and_keeps_everything_else():
    data = job(PII)
    out, found = redact_stream(data)
    assert len(out) == len(data)
    assert sorted(f.kind for f in found) == ["card", "member", "phone", "phone"]
    text = [ln.text for r in read_receipts(out) for ln in r.lines]
    assert "手机 ***********" in text
    assert "卡号 **** **** **** 1111" in text
    assert "会员号: **** **** ****" in text
    assert "合计 152.90" in text  # prices are not personal data
    # commands and codes are byte-identical; only text bytes changed, and only digits became '*'
    for ev in events(data):
        seg_in, seg_out = data[ev.offset : ev.offset + len(ev.raw)], out[ev.offset : ev.offset + len(ev.raw)]
        if not isinstance(ev, Text):
            assert seg_in == seg_out
        else:
            assert all(a == b or (chr(a).isdigit() and b == ord("*")) for a, b in zip(seg_in, seg_out, strict=True))
    assert [c.data for r in read_receipts(out) for c in r.codes] == [
        "https://kelaile.example/m/13812345678",
        "4006381333931",
    ]


def test_codes_option_masks_code_contents_keeping_lengths():
    data = job(["合计 10.00"])
    out, found = redact_stream(data, codes=True)
    codes = [c.data for r in read_receipts(out) for c in r.codes]
    assert codes == ["https://kelaile.example/m/***********", "*************"]
    assert {f.kind for f in found} == {"code"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), max_size=30))
def test_streaming_equals_whole_file_under_any_chunking(sizes):
    data = job(PII)
    whole, _ = redact_stream(data)
    r = StreamingRedactor()
    out, pos = b"", 0
    for n in sizes:
        out += r.feed(data[pos : pos + n])
        pos += n
    out += r.feed(data[pos:]) + r.close()
    assert out == whole


def test_big5_member_label():
    data = b"\x1b@" + "會員編號 0912345678\n統一發票\n".encode("cp950") + b"\x1dV\x00"
    out, found = redact_stream(data)
    assert "會員編號 **********" in [ln.text for r in read_receipts(out) for ln in r.lines]
    assert found


def test_checksums_decide_between_personal_data_and_look_alikes():
    lines = [
        "IBAN DE89 3704 0044 0532 0130 01",  # check digits wrong: not an IBAN
        "4111 1111 1111 1112",  # Luhn fails: not a card
        "110105194912310021",  # ID check character wrong, no label
        "IBAN DE89 3704 0044 0532 0130 00",
        "4111 1111 1111 1111",
        "11010519491231002X",
    ]
    out, found = redact_stream(job(lines))
    text = [ln.text for r in read_receipts(out) for ln in r.lines]
    assert text[:3] == lines[:3]
    assert text[3:6] == ["IBAN DE** **** **** **** **** **", "**** **** **** 1111", "******************"]
    assert [f.kind for f in found] == ["iban", "card", "national_id"]


def test_every_masked_run_is_reported_with_its_byte_span():
    data = job(["E-mail: zhang.wei@example.com", "电话：(010) 6552-1234"])
    out, found = redact_stream(data)
    assert [f.kind for f in found] == ["email", "phone"]
    for f in found:
        assert out[f.offset : f.offset + 1] == b"*" and out[f.offset + f.length - 1 : f.offset + f.length] == b"*"
        assert data[f.offset : f.offset + f.length] != out[f.offset : f.offset + f.length]
