"""Text that was mis-decoded once and saved again (issue 14 defect 4, the part left).

A POS whose item names went through a wrong decoding sends bytes that a printer prints as mojibake
(``Ã©`` for ``é``). klx recognises the three common shapes from the bytes, says so in the warnings and
in ``encoding_evidence``, and decodes the text back.
"""

from __future__ import annotations

from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from kelaile_cli.core.render.text import render_text
from kelaile_cli.core.stream.printstream import read_receipts
from kelaile_cli.services.jobs import Source, receipt_record
from tests.core.stream.test_printstream import live

ESC, GS = b"\x1b", b"\x1d"


def one(data: bytes):
    [r] = read_receipts(ESC + b"@" + data + GS + b"V\x00")
    return r


def lines(r) -> list[str]:
    return render_text(r, markers=False).splitlines()


def test_utf8_sent_to_a_single_byte_printer_is_decoded_as_utf8_and_said_so():
    # a cp1252 page selected, then UTF-8 bytes: the paper shows "CafÃ© crÃ¨me"
    r = one(ESC + b"t\x10" + "Café crème 3,50 €\n".encode())
    assert lines(r)[0] == "Café crème 3,50 €"
    [w] = [w for w in r.warnings if w.kind == "mojibake"]
    assert "UTF-8" in w.message and "Ã©" in w.message
    assert w.offset == 2 + 3 + len(b"Caf")  # ESC @, ESC t 16, then the first byte of the é
    assert any("UTF-8" in e for e in r.encoding_evidence)


def test_utf8_of_cp1252_read_utf8_is_decoded_twice():
    saved = "Crème brûlée\n".encode().decode("cp1252").encode("utf-8")  # 'CrÃ¨me brÃ»lÃ©e' as UTF-8
    r = one(saved)
    assert lines(r)[0] == "Crème brûlée"
    [w] = [w for w in r.warnings if w.kind == "mojibake"]
    assert "twice" in w.message


def test_gbk_read_as_latin1_then_saved_as_utf8():
    saved = "合计 56.00 谢谢光临\n".encode("gbk").decode("latin-1").encode("utf-8")
    r = one(saved)
    assert lines(r)[0] == "合计 56.00 谢谢光临"
    record = receipt_record(Source("x.bin", b""), r)
    assert any("GBK" in e for e in record["encoding_evidence"])
    assert any(w["kind"] == "mojibake" for w in record["warnings"])


def test_python_escpos_utf8_text_through_the_whole_pipeline():
    p = Dummy(profile="TM-T88V")
    p.hw("INIT")
    p._raw("Müller Straße\nGrüße\n".encode())
    p.cut()
    [r] = read_receipts(p.output)
    assert lines(r)[:2] == ["Müller Straße", "Grüße"]


def test_real_cp1252_and_cp437_text_is_not_taken_for_mojibake():
    r = one(ESC + b"t\x10" + "Café crème 3,50 €\n".encode("cp1252"))
    assert lines(r)[0] == "Café crème 3,50 €"
    assert not [w for w in r.warnings if w.kind == "mojibake"]
    r = one("Caf\u00e9 \u2500\u2500\u2500\u2500 \u00fc\n".encode("cp437"))
    assert not [w for w in r.warnings if w.kind == "mojibake"]


def test_double_byte_mode_declared_is_left_to_the_double_byte_guess():
    r = one(b"\x1c&" + "谢谢光临".encode("gb18030") + b"\n")
    assert lines(r)[0] == "谢谢光临"
    assert not [w for w in r.warnings if w.kind == "mojibake"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=20))
def test_decoding_back_is_independent_of_chunking(cuts):
    job = ESC + b"@" + "Crème brûlée 4,20 €\nGrüße\n".encode().decode("cp1252").encode() + GS + b"V\x00"
    data = job * 3
    whole = live(data, [])
    assert render_text(whole[0], markers=False).splitlines()[:2] == ["Crème brûlée 4,20 €", "Grüße"]
    assert [render_text(r) for r in live(data, cuts)] == [render_text(r) for r in whole]
