"""Encoding evidence (issue 14 defects 3 and 4): what the stream declares wins over byte statistics,
single-byte text outside double-byte mode is not evidence for a double-byte encoding, and the guess
says how sure it is and why."""

from __future__ import annotations

from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services.jobs import Source, receipt_record

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
RULE = FS + b"." + ESC + b"t\x01" + b"\x95" * 20 + b"\n"  # a rule line on the Katakana page


def one(data: bytes):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return r


def test_katakana_page_after_fs_dot_is_single_byte():
    r = one(FS + b"&" + "合计".encode("gb18030") + b"\n" + RULE)
    assert [ln.text for ln in r.lines] == ["合计", "─" * 20]


def test_big5_in_fs_ampersand_mode_beside_katakana_rules():
    text = "牛肉麵".encode("big5")
    r = one((FS + b"&" + text + b"\n" + RULE) * 2 + FS + b"&" + "總計 360".encode("big5") + b"\n")
    assert r.encoding == "cp950"
    assert r.lines[0].text == "牛肉麵"


def test_fs_c_shift_jis_declares_kanji_without_fs_ampersand():
    r = one(FS + b"." + ESC + b"t\x01" + FS + b"C1" + "合計 2050円".encode("cp932") + b"\n")
    assert r.encoding == "cp932"
    assert r.lines[0].text == "合計 2050円"
    assert "FS C 1" in " ".join(r.encoding_evidence)


def test_no_double_byte_claim_without_double_byte_evidence():
    r = one(b"Caf\x82 cr\x8ame\n")  # cp437 accents, nothing double-byte about it
    assert r.encoding != "gb18030"
    assert r.encoding_confidence is not None


def test_json_says_how_sure_and_why():
    r = one(FS + b"&" + "谢谢光临 合计金额".encode("gb18030") + b"\n")
    record = receipt_record(Source("x.bin", b""), r)
    assert record["encoding"] == "gb18030"
    assert 0 < record["encoding_confidence"] <= 1
    assert any("FS &" in e for e in record["encoding_evidence"])


def test_code_pages_from_the_capability_database_tables():
    r = one(ESC + b"t\x0d" + b"\xd5 4.00\n" + ESC + b"t\x1e" + b"C\xb5 ph\xaa\n")  # cp857 euro; TCVN-3
    assert [ln.text for ln in r.lines] == ["€ 4.00", "Cà phê"]
    assert not r.warnings
